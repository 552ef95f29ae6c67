"""The embedded run's supervision (ADR 15), read from `infra/Procfile` as `make run` reads it:
every worker has a node name of its own, the watchdog checks each of them, and every
process is restarted when it exits."""

from __future__ import annotations

import configparser
import shlex
import socket
from pathlib import Path

from clipcart_tools.stack import procfile_commands
from clipcart_tools.supervision import GROUP, WATCHDOG, config_render, worker_node


def _config(tmp_path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    parser.read_string(
        config_render(
            procfile_commands(), root=tmp_path, log_dir=tmp_path, run_dir=tmp_path, stop_seconds=10
        )
    )
    return parser


def test_every_worker_of_the_procfile_has_a_node_name_of_its_own():
    nodes = {name: worker_node(command) for name, command in procfile_commands().items()}
    workers = {name: node for name, node in nodes.items() if node}

    assert set(workers) == {
        "catalog-worker",
        "video-worker",
        "video-attribution",
        "checkout-worker",
    }
    assert len(set(workers.values())) == len(workers)
    assert all(node.endswith(f"@{socket.gethostname()}") for node in workers.values())


def test_every_process_is_restarted_and_stopped_alone_then_killed_with_its_children(tmp_path):
    config = _config(tmp_path)
    programs = [*procfile_commands(), WATCHDOG]

    assert config.get(f"group:{GROUP}", "programs").split(",") == programs
    for name in programs:
        section = f"program:{name}"
        assert config.get(section, "autorestart") == "true"
        assert int(config.get(section, "startretries")) > 1  # retried with a backoff
        assert config.get(section, "stopasgroup") == "false"  # SIGTERM to the process alone
        assert config.get(section, "killasgroup") == "true"  # SIGKILL to its children too
        assert config.get(section, "stdout_logfile") == str(tmp_path / f"{name}.log")


def test_the_watchdog_checks_every_worker_and_commands_keep_their_percent_signs(tmp_path):
    config = _config(tmp_path)
    watchdog = shlex.split(config.get(f"program:{WATCHDOG}", "command"))[-1]
    watched = dict(item.split("=", 1) for item in shlex.split(watchdog)[4:] if item != "--worker")
    commands = procfile_commands()

    assert watched == {
        name: node for name, command in commands.items() if (node := worker_node(command))
    }
    # supervisord expands %(...)s: the config doubles each %, and gives back the command.
    attribution = config.get("program:video-attribution", "command").replace("%%", "%")
    assert shlex.split(attribution)[-1] == commands["video-attribution"]
