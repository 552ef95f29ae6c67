"""Rebuild attribution for the orders paid in a date range (after changing a merchant's
windows or rates, or fixing a bug): one transaction per order."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from attribution.services import attribution_recompute


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from error


class Command(BaseCommand):
    help = "Recompute the credits of orders paid from --from to --to (UTC days, inclusive)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        start, end = _day(options["start"]), _day(options["end"])
        if start > end:
            raise CommandError("--from is after --to.")
        orders = attribution_recompute(start=start, end=end)
        self.stdout.write(f"Attribution recomputed for {orders} orders paid {start} to {end}.")
