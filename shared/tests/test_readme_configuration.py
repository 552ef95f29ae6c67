"""The README's configuration table must name every variable the code reads."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READS = re.compile(r"""env\.(?:str|int|bool|list|float|path|dict)\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def test_every_environment_variable_read_by_the_code_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    sources = [
        *ROOT.glob("shared/clipcart_shared/**/*.py"),
        *ROOT.glob("services/*/config/**/*.py"),
    ]
    read = {name for path in sources for name in READS.findall(path.read_text())}
    assert len(read) > 15  # the pattern still matches how settings are read
    assert sorted(name for name in read if f"`{name}`" not in readme) == []
