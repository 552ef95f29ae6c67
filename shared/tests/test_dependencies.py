"""clipcart-shared declares exactly the distributions clipcart_shared uses: what it imports
and what its settings name by dotted path (apps, middleware, backends, the log formatter).
The developer's tools are another package (clipcart-tools, ADR 22), so nothing here may
need pgserver, localstripe, supervisor or pytest."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

SHARED = Path(__file__).resolve().parents[1]
PACKAGE = SHARED / "clipcart_shared"
DOTTED = re.compile(r"[a-z_]+(\.[A-Za-z_]+)*")
# Loaded by Django, not imported: the PostgreSQL backend (DATABASE_URL) and
# django.contrib.postgres in INSTALLED_APPS import psycopg.
LOADED_BY_DJANGO = {"psycopg"}
DEV_TOOLS = {"pgserver", "localstripe", "supervisor", "pytest", "clipcart-tools", "honcho"}


def _top_level_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and DOTTED.fullmatch(node.value)
        ):
            names.add(node.value.split(".")[0])
    return names


def used_distributions() -> set[str]:
    names = set().union(*(_top_level_names(path) for path in PACKAGE.rglob("*.py")))
    names -= set(sys.stdlib_module_names) | {"clipcart_shared"}
    distributions = packages_distributions()
    found = {canonicalize_name(dist) for name in names for dist in distributions.get(name, [])}
    return found | LOADED_BY_DJANGO


def declared_distributions() -> set[str]:
    project = tomllib.loads((SHARED / "pyproject.toml").read_text())["project"]
    return {canonicalize_name(Requirement(item).name) for item in project["dependencies"]}


def test_the_shared_package_declares_exactly_the_distributions_it_uses():
    assert declared_distributions() == used_distributions()


def test_the_scan_sees_imports_and_the_names_in_settings():
    # Guards the comparison above: a scan that found nothing would fail it, but one that
    # missed the settings' strings would ask to drop whitenoise, axes or the log formatter.
    used = used_distributions()

    assert {"django", "celery", "pyjwt", "babel"} <= used  # imported
    assert {"whitenoise", "django-axes", "python-json-logger"} <= used  # named in settings


def test_no_dev_tool_is_a_dependency_of_the_shared_package():
    assert declared_distributions() & DEV_TOOLS == set()
    assert used_distributions() & DEV_TOOLS == set()
