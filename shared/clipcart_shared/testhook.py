"""The base of each service's `testhook` management command: the one way another service's
tests (or the cross-service tests) set up or read this service's state without importing
its code or touching its tables (issue 14). Each service lists its hooks, named by what
they do; `manage.py testhook <hook> '<JSON arguments>'` runs one and prints its JSON answer
on the last line.

Like `seed_demo`, it refuses to run under production settings (DEMO_DATA_ALLOWED is False
there): a hook writes whatever a test needs, with no checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

Hook = Callable[..., Any]


class HookCommand(BaseCommand):
    help = "Tests only: run one of this service's test hooks and print its JSON answer."
    hooks: dict[str, Hook] = {}

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("hook", choices=sorted(self.hooks))
        parser.add_argument("arguments", nargs="?", default="{}", help="a JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        if not getattr(settings, "DEMO_DATA_ALLOWED", False):
            raise CommandError(
                "testhook refuses to run under production settings "
                f"({settings.SETTINGS_MODULE}): it is for tests only."
            )
        try:
            arguments = json.loads(options["arguments"])
        except json.JSONDecodeError as error:
            raise CommandError(f"the arguments are not JSON: {error}") from error
        if not isinstance(arguments, dict):
            raise CommandError("the arguments must be a JSON object")
        answer = self.hooks[options["hook"]](**arguments)
        self.stdout.write(json.dumps(answer, default=str))
