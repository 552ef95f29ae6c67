from __future__ import annotations

import pytest
from django.core.cache import caches


@pytest.fixture(autouse=True)
def _throttle_counts_cleared() -> None:
    """Every test starts with no request counted: the counters are in the `pages` cache's
    files, which no test transaction rolls back."""
    caches["pages"].clear()
