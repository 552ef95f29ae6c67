"""`manage.py` commands of a running service for its callers' tests, in one Django process
started once: `RunningService.manage` sends each command's arguments here instead of
starting Python and Django again for every test hook (seconds each, on a loaded 2-core
machine most of some suites' time).

Run from a service's directory (services/<name>) with that service's environment:

    python -m clipcart_tools.testing.manage_server

Each line read is a JSON list of arguments; each is run as `manage.py <arguments>` runs it
(`execute_from_command_line`, so the same parsing, the same CommandError → stderr and exit
status 1), with its stdout and stderr captured, and every database connection closed
after it, as a process of its own would leave them. One JSON line is written back per
command: `{"status", "stdout", "stderr"}`. Whatever else writes to the standard output
(a log handler) goes to the standard error, so that it never mixes with the answers.
"""

from __future__ import annotations

import io
import json
import os
import sys
import traceback
from contextlib import redirect_stderr, redirect_stdout


def main() -> None:
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.path.insert(0, os.getcwd())  # the service's own packages, as manage.py has them
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

    import django
    from django.core.management import execute_from_command_line
    from django.db import connections

    django.setup()
    for line in sys.stdin:
        arguments = json.loads(line)
        stdout, stderr = io.StringIO(), io.StringIO()
        status = 0
        try:
            with redirect_stdout(stdout), redirect_stderr(stderr):
                execute_from_command_line(["manage.py", *arguments])
        except SystemExit as stopped:
            code = stopped.code
            status = code if isinstance(code, int) else (0 if code is None else 1)
            if isinstance(code, str):
                stderr.write(code)
        except Exception:
            status = 1
            stderr.write(traceback.format_exc())
        finally:
            connections.close_all()
        answer = {"status": status, "stdout": stdout.getvalue(), "stderr": stderr.getvalue()}
        answers.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
