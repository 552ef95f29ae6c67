"""Reading docker-compose.yml the way Docker Compose does, without Docker: YAML (with its
merge keys), then `${VAR}` interpolation from a given environment."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SERVICE_IMAGE_DOCKERFILE = "infra/docker/Dockerfile"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# The forms the Compose Specification allows after the name, longest first.
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


class InterpolationError(ValueError):
    """A `${VAR:?message}` whose variable is missing, or text that is not interpolation."""


@dataclass(frozen=True)
class Variable:
    name: str
    operator: str  # "" for a bare ${NAME} or $NAME
    argument: str

    @property
    def has_default(self) -> bool:
        return self.operator in (":-", "-")


def _closing_brace(text: str, start: int) -> int:
    """Index of the `}` closing the `${` whose body starts at `start` (nesting allowed)."""
    depth = 1
    index = start
    while index < len(text):
        if text.startswith("$$", index):
            index += 2
            continue
        if text.startswith("${", index):
            depth += 1
            index += 2
            continue
        if text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    raise InterpolationError(f"unclosed ${{ in {text!r}")


def interpolate(text: str, environ: Mapping[str, str], found: list[Variable] | None = None) -> str:
    """`text` with `$$`, `$NAME` and `${NAME…}` replaced as Compose does; every variable
    met (also inside defaults) is appended to `found`."""
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char != "$":
            out.append(char)
            index += 1
            continue
        if text.startswith("$$", index):
            out.append("$")
            index += 2
            continue
        if text.startswith("${", index):
            end = _closing_brace(text, index + 2)
            body = text[index + 2 : end]
            name_match = _NAME.match(body)
            if not name_match:
                raise InterpolationError(f"bad variable in {text!r}")
            name = name_match.group()
            rest = body[name_match.end() :]
            operator = next((op for op in _OPERATORS if rest.startswith(op)), "")
            if rest and not operator:
                raise InterpolationError(f"bad variable in {text!r}")
            argument = rest[len(operator) :]
            if found is not None:
                found.append(Variable(name, operator, argument))
            out.append(_substitute(name, operator, argument, environ, found))
            index = end + 1
            continue
        name_match = _NAME.match(text, index + 1)
        if not name_match:
            raise InterpolationError(f"a lone $ in {text!r} (write $$)")
        if found is not None:
            found.append(Variable(name_match.group(), "", ""))
        out.append(environ.get(name_match.group(), ""))
        index = name_match.end()
    return "".join(out)


def _substitute(
    name: str,
    operator: str,
    argument: str,
    environ: Mapping[str, str],
    found: list[Variable] | None,
) -> str:
    value = environ.get(name)
    is_set = value is not None
    is_non_empty = bool(value)
    if operator in (":-", "-"):
        use_default = not is_non_empty if operator == ":-" else not is_set
        return interpolate(argument, environ, found) if use_default else str(value)
    if operator in (":?", "?"):
        missing = not is_non_empty if operator == ":?" else not is_set
        if missing:
            raise InterpolationError(f"{name}: {argument or 'required'}")
        return str(value)
    if operator in (":+", "+"):
        use_alternative = is_non_empty if operator == ":+" else is_set
        return interpolate(argument, environ, found) if use_alternative else ""
    return value or ""


def _interpolate_tree(node: Any, environ: Mapping[str, str], found: list[Variable]) -> Any:
    if isinstance(node, str):
        return interpolate(node, environ, found)
    if isinstance(node, list):
        return [_interpolate_tree(item, environ, found) for item in node]
    if isinstance(node, dict):
        return {key: _interpolate_tree(value, environ, found) for key, value in node.items()}
    return node


def raw() -> dict[str, Any]:
    """The compose file as YAML, merge keys resolved, nothing interpolated."""
    return yaml.safe_load(COMPOSE_FILE.read_text())


def load(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The compose file as Compose sees it with `environ` (default: nothing set, so every
    default applies)."""
    return _interpolate_tree(raw(), environ or {}, [])


def variables() -> list[Variable]:
    """Every `${VAR}` the compose file reads from the shell or a .env file."""
    found: list[Variable] = []
    _interpolate_tree(raw(), {}, found)
    return found


@dataclass(frozen=True)
class Container:
    """One compose service, with what the tests ask of it."""

    name: str
    spec: dict[str, Any]

    @property
    def is_service_image(self) -> bool:
        """Built from the one image every clipcart service runs (infra/docker/Dockerfile)."""
        build = self.spec.get("build")
        return isinstance(build, dict) and build.get("dockerfile") == SERVICE_IMAGE_DOCKERFILE

    @property
    def command(self) -> list[str]:
        command = self.spec.get("command", [])
        return shlex.split(command) if isinstance(command, str) else list(command)

    @property
    def working_dir(self) -> PurePosixPath | None:
        working_dir = self.spec.get("working_dir")
        return PurePosixPath(working_dir) if working_dir else None

    @property
    def clipcart_service(self) -> str | None:
        """`catalog` for a container working in /app/services/catalog, else None."""
        if self.working_dir and self.working_dir.parent.name == "services":
            return self.working_dir.name
        return None

    @property
    def environment(self) -> dict[str, Any]:
        environment = self.spec.get("environment") or {}
        if isinstance(environment, list):
            pairs = (item.split("=", 1) for item in environment)
            return {pair[0]: (pair[1] if len(pair) > 1 else None) for pair in pairs}
        return dict(environment)

    @property
    def is_one_shot(self) -> bool:
        """Runs to completion (a migrate job); everything else is meant to keep running."""
        return self.spec.get("restart") == "no"

    @property
    def is_dev_only(self) -> bool:
        return "dev" in self.spec.get("profiles", [])


@cache
def _containers() -> tuple[Container, ...]:
    services = load()["services"]
    return tuple(Container(name, spec) for name, spec in services.items())


def containers() -> list[Container]:
    """Every compose service with the defaults applied."""
    return list(_containers())


def container(name: str) -> Container:
    return next(item for item in _containers() if item.name == name)
