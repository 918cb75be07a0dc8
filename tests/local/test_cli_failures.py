"""Every command, failing as expected, says so in one line on stderr, never with a traceback: no
credentials for AWS, nothing listening, a missing table, an unknown session, a reader that stopped
reading. Each runs as a person runs it: a fresh process, with no AWS credentials anywhere (and the
instance metadata service switched off, so that nothing leaves this machine)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from entrypoints import cli
from tests.local.client import Client
from tests.local.server_thread import ServerThread

NOTHING_LISTENS = "http://127.0.0.1:9"  # the discard port


@pytest.fixture
def bare_environment(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_REGION": "us-east-1",
    }


def manga_assist(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def one_line_failure(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0, done
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_aws_without_credentials_is_one_line(bare_environment: dict[str, str]) -> None:
    for args in (["create-table"], ["inspect", "s-1", "--table", "t"], ["redrive", "--dlq-url", "q"]):
        env = {**bare_environment, "SESSION_STORE": "dynamodb"}
        assert "no AWS credentials found" in one_line_failure(manga_assist(env, *args)), args
    refused = manga_assist(bare_environment, "serve", "--port", "0", "--store", "dynamodb")
    assert refused.returncode == 2 and "cannot start: no AWS credentials found" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_nothing_listening_is_one_line(bare_environment: dict[str, str]) -> None:
    for args in (
        ["inspect", "s-1", "--server", NOTHING_LISTENS],
        ["redrive", "--server", NOTHING_LISTENS],
        ["usage", "--server", NOTHING_LISTENS],
    ):
        line = one_line_failure(manga_assist(bare_environment, *args))
        assert f"no server at {NOTHING_LISTENS}: is `manga-assist serve` running?" in line, line
    for args in (
        ["inspect", "s-1", "--endpoint-url", NOTHING_LISTENS],
        ["create-table", "--endpoint-url", NOTHING_LISTENS],
        ["usage", "--customer", "c-1", "--endpoint-url", NOTHING_LISTENS],
    ):
        assert "cannot reach http://127.0.0.1:9" in one_line_failure(manga_assist(bare_environment, *args))


@pytest.mark.moto_server
def test_a_missing_table_and_an_unknown_session_are_one_line(
    bare_environment: dict[str, str], moto_endpoint: str
) -> None:
    missing = manga_assist(
        bare_environment, "inspect", "s-1", "--endpoint-url", moto_endpoint, "--table", "nope"
    )
    assert "does the table exist? `manga-assist create-table` makes it" in one_line_failure(missing)
    env = {**bare_environment, "SESSION_TABLE": "cli-failures"}
    assert manga_assist(env, "create-table", "--endpoint-url", moto_endpoint).returncode == 0
    unknown = manga_assist(env, "inspect", "no-such-session", "--endpoint-url", moto_endpoint)
    assert "no session no-such-session" in one_line_failure(unknown)


def test_a_closed_pipe_ends_quietly(server: ServerThread, bare_environment: dict[str, str]) -> None:
    """``manga-assist inspect --json | head``: the reader leaves early; the command says nothing."""

    async def a_session() -> str:
        client = await Client.open(server.ws_url, customer_id="cust-pipe")
        [session] = await client.ask({"action": "session"}, "session")
        for n in range(6):  # over 64 KB of JSON: more than a pipe holds, so the writer must wait
            await client.say("Tell me about volume 3 " + "please " * 1800, f"m-{n}")
        await client.close()
        return str(session["session_id"])

    session_id = asyncio.run(a_session())
    command = [sys.executable, "-m", "entrypoints.cli", "inspect", session_id, "--server", server.http_url]
    reader_leaves = subprocess.Popen(
        [*command, "--json", "--content"],
        env=bare_environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader_leaves.stdout is not None and reader_leaves.stderr is not None
    reader_leaves.stdout.read(10)
    reader_leaves.stdout.close()
    errors = reader_leaves.stderr.read().decode()
    assert reader_leaves.wait(timeout=60) != 0
    assert errors == "", errors


def test_help_is_written_for_a_person(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    assert "getting started" in text and "manga-assist serve" in text and "docs/PROTOCOL.md" in text
    assert "``" not in text and "imported only when it runs" not in text  # not a module's docstring
    for name in cli.COMMANDS:
        assert name in text


def test_the_local_server_answers_through_the_same_client(
    start_server: Callable[..., ServerThread], bare_environment: dict[str, str]
) -> None:
    server = start_server()
    done = manga_assist(bare_environment, "redrive", "--server", server.http_url)
    assert done.returncode == 0 and "stored: 0" in done.stdout, done
