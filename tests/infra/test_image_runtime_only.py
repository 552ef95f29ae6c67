"""The service image holds the runtime and nothing of the developer's tools (issue 14,
ADR 22): it installs the locked dependencies without any dependency group, never copies
tools/, and no module it copies imports the tools or their dependencies."""

from __future__ import annotations

import ast
import shlex
import tomllib
from pathlib import Path

from tests.infra import dockerfile
from tests.infra.compose import ROOT, SERVICE_IMAGE_DOCKERFILE

IMAGE = ROOT / SERVICE_IMAGE_DOCKERFILE
DEV_ONLY = {"clipcart-tools", "pgserver", "localstripe", "supervisor", "honcho", "pytest"}
DEV_MODULES = {"clipcart_tools", "pgserver", "localstripe", "supervisor", "honcho", "pytest"}


def _uv_syncs(instructions: list[dockerfile.Instruction]) -> list[list[str]]:
    commands = []
    for item in instructions:
        if item.keyword == "RUN" and "uv " in item.arguments:
            for part in item.arguments.replace(";", "&&").split("&&"):
                words = shlex.split(part)
                if words[:2] in (["uv", "sync"], ["uv", "pip"]):
                    commands.append(words)
    return commands


def _copied_files(instructions: list[dockerfile.Instruction]) -> list[Path]:
    patterns = dockerfile.ignored_patterns(ROOT)
    sources = [shlex.split(item.arguments)[:-1] for item in instructions if item.keyword == "COPY"]
    files = []
    for source in (word for words in sources for word in words if not word.startswith("--")):
        path = ROOT / source
        for file in [path] if path.is_file() else sorted(path.rglob("*")):
            relative = file.relative_to(ROOT).as_posix()
            if file.is_file() and not dockerfile.is_ignored(relative, patterns):
                files.append(file)
    return files


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _locked_runtime_closure() -> set[str]:
    """The packages `uv sync --frozen --no-dev` installs: the root project's dependencies in
    uv.lock and theirs, no dependency group."""
    packages = {
        item["name"]: item for item in tomllib.loads((ROOT / "uv.lock").read_text())["package"]
    }
    found: set[str] = set()
    pending = [dep["name"] for dep in packages["clipcart"].get("dependencies", [])]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found.add(name)
        package = packages[name]
        pending += [dep["name"] for dep in package.get("dependencies", [])]
        for dep in packages[name].get("dependencies", []):
            for extra in dep.get("extra", []):
                pending += [
                    item["name"]
                    for item in packages[dep["name"]]
                    .get("optional-dependencies", {})
                    .get(extra, [])
                ]
    return found


def test_the_service_image_installs_no_dependency_group():
    syncs = _uv_syncs(dockerfile.stage_chain(IMAGE))

    assert syncs, "the service image installs nothing with uv"
    for words in syncs:
        assert "--frozen" in words and "--no-dev" in words, words
        assert not {"--group", "--all-groups", "--dev", "--only-dev"} & set(words), words


def test_what_the_service_image_installs_holds_no_dev_tool():
    runtime = _locked_runtime_closure()

    assert {"django", "celery", "gunicorn", "clipcart-shared"} <= runtime  # guards the walk
    assert runtime & DEV_ONLY == set()


def test_no_image_copies_the_tools_and_the_build_context_leaves_them_out():
    sources = [source for copy in dockerfile.copies(IMAGE) for source in copy.sources]

    assert [s for s in sources if s in (".", "./") or s.strip("/").split("/")[0] == "tools"] == []
    assert dockerfile.is_ignored("tools/clipcart_tools/cli.py", dockerfile.ignored_patterns(ROOT))


def test_no_module_of_the_service_image_imports_the_tools_or_their_dependencies():
    modules = [
        path for path in _copied_files(dockerfile.stage_chain(IMAGE)) if path.suffix == ".py"
    ]
    importing = {
        path.relative_to(ROOT).as_posix(): sorted(_imported_modules(path) & DEV_MODULES)
        for path in modules
    }

    assert len(modules) > 100  # services, clipcart_shared and the health check script
    assert any(path.as_posix().endswith("clipcart_shared/settings.py") for path in modules)
    assert {path: names for path, names in importing.items() if names} == {}


def test_the_stripe_emulator_is_a_stage_of_its_own_and_not_the_default():
    names = [name for name, _ in dockerfile.stages(IMAGE)]
    emulator = dockerfile.stage_chain(IMAGE, "stripe-emulator")

    assert "stripe-emulator" in names and names[-1] != "stripe-emulator"
    assert any("--group" in words and "stripe-emulator" in words for words in _uv_syncs(emulator))
    assert not any(item.keyword == "COPY" and "services" in item.arguments for item in emulator)
