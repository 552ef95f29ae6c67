"""A bare Celery app with the liveness task, for `test_liveness.py`'s real worker."""

import os

from celery import Celery

import clipcart_shared.celery  # noqa: F401  (patches the embedded broker's transport)
from clipcart_shared.liveness import liveness_task_register

app = Celery("liveness-test", broker=os.environ["LIVENESS_BROKER_URL"])
app.conf.worker_direct = True
app.conf.worker_hijack_root_logger = False
liveness_task_register(app)
