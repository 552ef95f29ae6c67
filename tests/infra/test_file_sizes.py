"""Every Python file the project keeps stays under 400 lines (issue 14), so a newcomer can
read any module whole. Migrations are generated and exempt. (The issue would also exempt a
selector holding one large SQL statement with a Python oracle test; none needs it today.)"""

from __future__ import annotations

import subprocess

from tests.infra.compose import ROOT

LIMIT = 400


def _tracked_python_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return [path for path in listed.stdout.split() if "/migrations/" not in path]


def test_every_python_file_is_under_the_limit() -> None:
    files = _tracked_python_files()
    assert len(files) > 100, "git ls-files found the project's files"
    too_long = {}
    for path in files:
        lines = (ROOT / path).read_text(encoding="utf-8").count("\n")
        if lines > LIMIT:
            too_long[path] = lines
    assert too_long == {}, f"split these by responsibility (limit {LIMIT} lines): {too_long}"
