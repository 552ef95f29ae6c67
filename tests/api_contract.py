"""The API contract, docs/API.md, as the cross-service tests read it.

docs/API.md is the contract mobile apps build against: a copy of ../shared/API.md
(outside this repository), kept in sync with it whenever it changes, plus this project's
additions (each says so, and is in CHANGELOG). Its `## catalog`, `## video` and
`## checkout` sections name each service's paths; the first segment after /api/v1/ is
the resource, owned by exactly one service. A path written as a prefix (`/api/v1/merchant/...`,
its paths then named relative to it) is not a path itself.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
API_CONTRACT = ROOT / "docs/API.md"
SERVICES = sorted(path.parent.name for path in ROOT.glob("services/*/manage.py"))
_SECTION = re.compile(r"^## (.+)$", re.MULTILINE)
_PATH = re.compile(r"/(?:api|internal)/v1/[^\s`'\"?,;)]*")
_PARAMETER = re.compile(r"\{[^}]*\}")


def contract_paths(*, fill: str | None = None) -> dict[str, set[str]]:
    """Each service's public and internal paths in the contract, as written (`{id}`), or
    with every `{…}` replaced by `fill`."""
    text = API_CONTRACT.read_text()
    headings = list(_SECTION.finditer(text))
    found: dict[str, set[str]] = {}
    for index, heading in enumerate(headings):
        section = heading.group(1).strip()
        if section not in SERVICES:
            continue
        end = headings[index + 1].start() if index + 1 < len(headings) else len(text)
        named = _PATH.findall(text[heading.end() : end])
        paths = {path for path in named if not path.endswith("...")}
        found[section] = paths if fill is None else {_PARAMETER.sub(fill, p) for p in paths}
    return found


def path_shape(path: str) -> str:
    """The path with its parameters' names dropped: API.md's `/videos/{id}/` and a schema's
    `/videos/{video_id}/` are the same path."""
    return _PARAMETER.sub("{}", path)
