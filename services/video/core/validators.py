"""Validators of input several apps take."""

from __future__ import annotations

from django.core.validators import URLValidator

# URLs are stored and handed to apps, never fetched by the server.
web_url = URLValidator(schemes=["http", "https"])
