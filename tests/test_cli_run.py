"""`marquee run` in-process: the gateway serves first, services listed in cli.SERVICE_MODULES start after it (with
its URL and its functions at hand), and everything stops in reverse order on SIGTERM."""

from __future__ import annotations

import argparse
import os
import signal
import threading
import types
from pathlib import Path
from typing import Any

import httpx
import pytest

from marquee_local import cli, run


class _Recorder:
    def __init__(self, name: str, context: run.RunContext, journal: list[str], load_event: Any) -> None:
        self.name, self.context, self.journal, self.load_event = name, context, journal, load_event

    def start(self) -> None:
        health = httpx.get(self.context.api_url + "/health", timeout=30)
        result = self.context.lambdas.invoke_threadsafe("ApiFunction", self.load_event("api", "health"), timeout=30)
        self.journal.append(f"start {self.name}: gateway {health.status_code}, invoke {result['statusCode']}")
        if self.name == "second":
            threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()

    def stop(self) -> None:
        self.journal.append(f"stop {self.name}")

    def describe(self) -> list[str]:
        return [f"{self.name}   described"]


def _service_module(name: str, journal: list[str], load_event: Any, option: str | None = None) -> types.ModuleType:
    module = types.ModuleType(f"fake_service_{name}")

    def service(context: run.RunContext) -> run.Service | None:
        if option is not None and not getattr(context.args, option):
            return None
        return _Recorder(name, context, journal, load_event)

    def add_run_arguments(parser: argparse.ArgumentParser) -> None:
        if option is not None:
            parser.add_argument(f"--{option.replace('_', '-')}", action="store_true")

    module.service = service  # type: ignore[attr-defined]
    module.add_run_arguments = add_run_arguments  # type: ignore[attr-defined]
    return module


@pytest.mark.slow
def test_run_starts_services_after_the_gateway_and_stops_them_in_reverse(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    load_event: Any,
) -> None:
    journal: list[str] = []
    modules = {
        "fake_service_first": _service_module("first", journal, load_event),
        "fake_service_off": _service_module("off", journal, load_event, option="with_off"),
        "fake_service_second": _service_module("second", journal, load_event),
    }
    for name, module in modules.items():
        monkeypatch.setitem(__import__("sys").modules, name, module)
    monkeypatch.setattr(cli, "SERVICE_MODULES", tuple(modules))
    monkeypatch.setenv("MARQUEE_HOME", str(tmp_path))

    assert cli.main(["run", "--port", "0", "--quiet", "--environments", "1"]) == 0

    assert journal == [
        "start first: gateway 200, invoke 200",
        "start second: gateway 200, invoke 200",
        "stop second",
        "stop first",
    ]
    out = capsys.readouterr().out
    assert "first   described" in out and "second   described" in out and "off" not in out
    assert "API        http://127.0.0.1:" in out and (tmp_path / "demo-key").exists()


@pytest.mark.slow
def test_a_service_that_fails_to_start_stops_the_others(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    journal: list[str] = []

    class Broken:
        name = "broken"

        def start(self) -> None:
            raise OSError("port 8080 is taken")

        def stop(self) -> None:
            journal.append("stop broken")

        def describe(self) -> list[str]:
            return []

    module = types.ModuleType("fake_service_broken")
    module.service = lambda context: Broken()  # type: ignore[attr-defined]
    monkeypatch.setitem(__import__("sys").modules, "fake_service_broken", module)
    monkeypatch.setattr(cli, "SERVICE_MODULES", ("fake_service_broken",))
    monkeypatch.setenv("MARQUEE_HOME", str(tmp_path))

    assert cli.main(["run", "--port", "0", "--quiet", "--environments", "1"]) == 1
    assert journal == ["stop broken"]
    assert "broken did not start: port 8080 is taken" in capsys.readouterr().out
