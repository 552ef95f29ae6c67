"""The embedded broker (kombu's SQLAlchemy transport in PostgreSQL) across processes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import sqlalchemy
from django.db import connection
from kombu import Connection
from kombu.transport import sqlalchemy as sqlalchemy_transport

import clipcart_shared.celery  # noqa: F401  (patches the transport, as every service does)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker_url() -> Iterator[str]:
    # The server the tests run on (embedded: a socket in the query string), in the test
    # database, as `clipcart_shared.settings.broker_url` points the broker at it.
    server = urlsplit(os.environ["DATABASE_URL"])
    url = urlunsplit(
        server._replace(scheme="postgresql+psycopg", path=f"/{connection.settings_dict['NAME']}")
    )
    yield url
    # kombu keeps an engine per broker URL for the life of the process.
    for key, (kombu_engine, _) in list(sqlalchemy_transport.Channel._engines.items()):
        if key == f"sqla+{url}" or url in str(key):
            kombu_engine.dispose()
            del sqlalchemy_transport.Channel._engines[key]
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as database:
        database.execute(sqlalchemy.text("DROP TABLE IF EXISTS kombu_message, kombu_queue"))
        database.execute(sqlalchemy.text("DROP SEQUENCE IF EXISTS queue_id_sequence"))
        database.execute(sqlalchemy.text("DROP SEQUENCE IF EXISTS message_id_sequence"))
    engine.dispose()


def test_a_queue_another_process_creates_first_is_used_not_a_crash(broker_url):
    with Connection(f"sqla+{broker_url}") as first, Connection(f"sqla+{broker_url}") as other:
        channel, other_channel = first.default_channel, other.default_channel
        other_channel._new_queue("warm-up")  # both have their tables
        session = channel.session
        add = session.add

        def add_after_the_other_process(row: Any) -> None:
            # The other process inserts the same queue between this one's look and insert.
            other_channel._new_queue("video.events")
            add(row)

        session.add = add_after_the_other_process
        try:
            channel._put("video.events", {"body": "hello"})
        finally:
            session.add = add

        try:
            assert other_channel._get("video.events") == {"body": "hello"}
            assert other_channel._size("video.events") == 0
        finally:
            channel.session.close()
            other_channel.session.close()
