"""Reading a Dockerfile without Docker: its instructions, what it copies where, its ENV,
and so which file of the repository a path inside the image comes from."""

from __future__ import annotations

import fnmatch
import shlex
from dataclasses import dataclass
from pathlib import Path, PurePosixPath


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ...
    arguments: str


@dataclass(frozen=True)
class Copy:
    sources: tuple[str, ...]  # relative to the build context
    destination: PurePosixPath  # absolute, inside the image
    into_directory: bool  # sources land inside `destination` (several, or a trailing /)

    def target_of(self, source: str) -> PurePosixPath:
        if self.into_directory:
            return self.destination / PurePosixPath(source).name
        return self.destination


def instructions(path: Path) -> list[Instruction]:
    """Logical instructions: continuation lines joined, comment lines dropped."""
    found: list[Instruction] = []
    pending = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical = pending + stripped
        pending = ""
        keyword, _, arguments = logical.partition(" ")
        found.append(Instruction(keyword.upper(), arguments.strip()))
    if pending:
        raise ValueError(f"{path}: the last instruction ends with a continuation")
    return found


def copies(path: Path) -> list[Copy]:
    """The COPY/ADD instructions from the build context (not from other stages), with
    destinations made absolute against the WORKDIR in force."""
    workdir = PurePosixPath("/")
    found: list[Copy] = []
    for instruction in instructions(path):
        if instruction.keyword == "WORKDIR":
            workdir = workdir / instruction.arguments
        elif instruction.keyword in ("COPY", "ADD"):
            words = shlex.split(instruction.arguments)
            if any(word.startswith("--from") for word in words):
                continue
            paths = [word for word in words if not word.startswith("--")]
            *sources, destination = paths
            found.append(
                Copy(
                    sources=tuple(sources),
                    destination=workdir / destination,
                    into_directory=len(sources) > 1 or destination.endswith("/"),
                )
            )
    return found


def workdir(path: Path) -> PurePosixPath:
    """The working directory a container of this image starts in."""
    current = PurePosixPath("/")
    for instruction in instructions(path):
        if instruction.keyword == "WORKDIR":
            current = current / instruction.arguments
    return current


def environment(path: Path) -> dict[str, str]:
    """The ENV the image sets (the `key=value` form; later instructions win)."""
    found: dict[str, str] = {}
    for instruction in instructions(path):
        if instruction.keyword == "ENV":
            for word in shlex.split(instruction.arguments):
                key, separator, value = word.partition("=")
                if not separator:
                    raise ValueError(f"{path}: use ENV key=value, not {instruction.arguments!r}")
                found[key] = value
    return found


def source_of(path: Path, image_path: PurePosixPath) -> PurePosixPath | None:
    """The path in the build context that `image_path` inside the image was copied from,
    or None when no COPY put it there."""
    for copy in reversed(copies(path)):
        for source in copy.sources:
            target = copy.target_of(source)
            if image_path == target:
                return PurePosixPath(source)
            if target in image_path.parents:
                return PurePosixPath(source) / image_path.relative_to(target)
    return None


def ignored_patterns(context: Path) -> list[str]:
    ignore_file = context / ".dockerignore"
    if not ignore_file.exists():
        return []
    lines = (line.strip() for line in ignore_file.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def is_ignored(relative_path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore leaves `relative_path` (or a folder above it) out of the
    build context. Negations (`!`) are not used in this repository and not supported."""
    if any(pattern.startswith("!") for pattern in patterns):
        raise ValueError(".dockerignore negations are not supported by this check")
    parts = PurePosixPath(relative_path).parts
    prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    for pattern in patterns:
        pattern = pattern.strip("/")
        for prefix in prefixes:
            if fnmatch.fnmatchcase(prefix, pattern):
                return True
            if pattern.startswith("**/") and fnmatch.fnmatchcase(
                prefix.rsplit("/", 1)[-1], pattern[3:]
            ):
                return True
    return False


def stages(path: Path) -> list[tuple[str, list[Instruction]]]:
    """The build stages in order, as (name, instructions from its FROM on); an unnamed
    stage is called by its index. The last one is what a build without a target makes."""
    found: list[tuple[str, list[Instruction]]] = []
    for instruction in instructions(path):
        if instruction.keyword == "FROM":
            words = instruction.arguments.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else str(len(found))
            found.append((name, []))
        if not found:
            raise ValueError(f"{path}: an instruction before the first FROM")
        found[-1][1].append(instruction)
    return found


def stage_chain(path: Path, target: str | None = None) -> list[Instruction]:
    """Every instruction that builds `target` (the last stage by default): the stage's own
    and those of the stages it is built FROM, base first."""
    by_name = dict(stages(path))
    name = target or stages(path)[-1][0]
    chain: list[Instruction] = []
    while name in by_name:
        own = by_name[name]
        chain = own + chain
        name = own[0].arguments.split()[0]
    return chain
