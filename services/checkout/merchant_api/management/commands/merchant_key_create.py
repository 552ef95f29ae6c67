"""Make a merchant API key from the command line (operators, the e2e tests); the admin is
the usual way. Prints the key, once."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from merchant_api.services import merchant_api_key_create


class Command(BaseCommand):
    help = "Create an API key for a merchant and print it (it is stored hashed, shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("merchant_id", type=uuid.UUID)
        parser.add_argument("--name", default="command line")

    def handle(self, *args: Any, **options: Any) -> None:
        _, key = merchant_api_key_create(
            merchant_id=options["merchant_id"], name=options["name"], created_by="manage.py"
        )
        self.stdout.write(key)
