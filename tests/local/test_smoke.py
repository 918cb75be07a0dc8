"""``manga-assist smoke`` against ``serve`` on both stores: every step passes, each with its time; and
it fails, naming the step, when the server breaks a promise."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable

import pytest

from entrypoints import cli
from entrypoints.commands.smoke import smoke
from entrypoints.local.environment import ServeOptions
from tests.local.server_thread import ServerThread

STEPS = ("connect", "session", "streaming", "repeated id", "history")


def run_smoke(url: str) -> tuple[bool, list[str]]:
    out = io.StringIO()
    report = asyncio.run(smoke(url, None, None, 15.0, out))
    return report.passed, out.getvalue().splitlines()


def assert_all_steps_pass(lines: list[str]) -> None:
    assert not any(line.split()[:1] == ["FAIL"] for line in lines), lines
    for step in STEPS:
        assert any(line.split()[:1] == ["ok"] and step in line for line in lines), (step, lines)
    assert "first chunk" in next(line for line in lines if "streaming" in line)
    assert any(line.split()[:2] == ["skip", "handoff"] for line in lines), lines
    assert lines[-1] == "smoke: 5 steps ok, 0 failed, 1 skipped"


def test_smoke_passes_against_serve_in_memory(server: ServerThread) -> None:
    passed, lines = run_smoke(server.ws_url)
    assert passed, lines
    assert_all_steps_pass(lines)


@pytest.mark.moto_server
def test_smoke_passes_against_serve_on_dynamodb(
    moto_endpoint: str, start_server: Callable[..., ServerThread], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SESSION_TABLE", "manga-assist-smoke")
    assert cli.main(["create-table", "--endpoint-url", moto_endpoint]) == 0
    server = start_server(
        ServeOptions(host="127.0.0.1", port=0, store="dynamodb", endpoint_url=moto_endpoint)
    )
    passed, lines = run_smoke(server.ws_url)
    assert passed, lines
    assert_all_steps_pass(lines)


def test_smoke_fails_and_names_the_step_when_the_server_refuses(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    from entrypoints.commands import smoke as smoke_module

    monkeypatch.setattr(smoke_module, "QUESTION", "x" * 20000)  # over MAX_MESSAGE_CHARS: refused
    passed, lines = run_smoke(server.ws_url)
    assert not passed
    [failed] = [line for line in lines if line.split()[:1] == ["FAIL"]]
    assert failed.split()[1] == "streaming" and "too_large" in failed, lines
    assert lines[-1] == "smoke: 2 steps ok, 1 failed, 0 skipped"


def test_smoke_against_no_server_fails_at_connect() -> None:
    passed, lines = run_smoke("ws://127.0.0.1:9/ws")
    assert not passed
    assert lines[1].split()[:2] == ["FAIL", "connect"] and "is `manga-assist serve` running" in lines[1]
