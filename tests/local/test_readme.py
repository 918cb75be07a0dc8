"""The README, followed literally as a newcomer would, in fresh processes: each walkthrough's
commands run in order through bash (``source .venv/bin/activate`` included), each in its own
session (process group), with nothing of this test process's environment but PATH and a fresh
HOME: no AWS credentials, no profile. A server the README leaves running (``serve``,
``moto_server``) runs in the background until the walkthrough ends, then gets Ctrl-C.

Only what a shared machine forces is changed: the ports (8080 and 5000 become free ones; a
``serve`` without ``--port`` and a ``chat`` without ``--url`` are given them), ``chat`` reads a few
typed lines, and ``SESSION_ID`` is the session the walkthrough's ``smoke`` printed. Any traceback in
any output fails the test, and so does a command that exits non-zero."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from attrs import define, field

from entrypoints.cli import COMMANDS

ROOT = Path(__file__).parents[2]
README = ROOT / "README.md"
WALKTHROUGH = re.compile(r"<!-- walkthrough: (\w+) -->(.*?)<!-- /walkthrough -->", re.S)
SH_BLOCK = re.compile(r"```sh\n(.*?)```", re.S)
LONG_RUNNING = ("manga-assist serve", "moto_server")
TYPED_INTO_CHAT = "Is volume 3 of Frieren in stock?\n/help\n/history\n/quit\n"
COMMAND_TIMEOUT = 120

pytestmark = [pytest.mark.slow, pytest.mark.moto_server]


def walkthrough(name: str) -> list[str]:
    """The commands of one walkthrough, comments and blank lines left out."""
    found = {m.group(1): m.group(2) for m in WALKTHROUGH.finditer(README.read_text())}
    commands = []
    for block in SH_BLOCK.findall(found[name]):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[str], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode} before listening on {port}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listened on {port} within {seconds:.0f} s")


@define
class Newcomer:
    """Runs a walkthrough's commands as a person at a fresh terminal would."""

    home: Path
    ports: dict[str, int] = field(factory=lambda: {"8080": free_port(), "5000": free_port()})
    background: list[tuple[str, subprocess.Popen[str], Path]] = field(factory=list)
    transcript: list[tuple[str, str]] = field(factory=list)  # (command, its output)
    session_id: str | None = None

    def environment(self) -> dict[str, str]:
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.home), "LANG": "C.UTF-8"}

    def localize(self, command: str) -> str:
        for documented, port in self.ports.items():
            command = re.sub(rf"(?<=[:\s]){documented}\b", str(port), command)
        if command.startswith("manga-assist serve") and "--port" not in command:
            command += f" --port {self.ports['8080']}"
        if command.startswith("manga-assist chat") and "--url" not in command:
            command += f" --url ws://127.0.0.1:{self.ports['8080']}/ws"
        if "SESSION_ID" in command:
            assert self.session_id, "the walkthrough's smoke printed no session"
            command = command.replace("SESSION_ID", self.session_id)
        return command

    def follow(self, commands: list[str]) -> None:
        activate = ""
        for documented in commands:
            if documented == "source .venv/bin/activate":
                activate = "source .venv/bin/activate && "
                continue
            command = self.localize(documented)
            if command.startswith(LONG_RUNNING):
                self.start(activate + command, command)
            else:
                self.run(activate + command, command)

    def start(self, script: str, command: str) -> None:
        log = self.home / f"background-{len(self.background)}.log"  # a file: a pipe could fill and block it
        with log.open("w") as sink:
            process = subprocess.Popen(
                ["bash", "-c", script],
                cwd=ROOT,
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
        self.background.append((command, process, log))
        port = self.ports["5000"] if command.startswith("moto_server") else self.ports["8080"]
        try:
            wait_for_port(port, process)
        except AssertionError as error:
            self.stop()
            raise AssertionError(f"{command}: {error}\n{self.output_of_background()}") from None

    def run(self, script: str, command: str) -> None:
        typed = TYPED_INTO_CHAT if command.startswith("manga-assist chat") else ""
        finished = subprocess.run(
            ["bash", "-c", script],
            cwd=ROOT,
            env=self.environment(),
            input=typed,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            start_new_session=True,
        )
        output = finished.stdout + finished.stderr
        self.transcript.append((command, output))
        assert finished.returncode == 0, f"{command} exited {finished.returncode}:\n{output}"
        if command.startswith("manga-assist smoke"):
            found = re.search(r"session (\S+) \(", output)
            self.session_id = found.group(1) if found else None

    def stop(self) -> None:
        """Ctrl-C for each server, newest first, as a person closes their terminals."""
        for command, process, log in reversed(self.background):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            self.transcript.append((command, log.read_text()))
        self.background.clear()

    def output_of_background(self) -> str:
        return "\n".join(f"$ {command}\n{output}" for command, output in self.transcript)


@pytest.fixture
def newcomer(tmp_path: Path) -> Iterator[Newcomer]:
    person = Newcomer(home=tmp_path)
    try:
        yield person
    finally:
        person.stop()


def assert_no_traceback(person: Newcomer) -> None:
    for command, output in person.transcript:
        assert "Traceback (most recent call last)" not in output, f"$ {command}\n{output}"


def test_the_in_memory_walkthrough(newcomer: Newcomer) -> None:
    commands = walkthrough("memory")
    assert commands[:3] == ["make install", "source .venv/bin/activate", "manga-assist serve"]
    newcomer.follow(commands)
    newcomer.stop()
    assert_no_traceback(newcomer)
    outputs = dict(newcomer.transcript)
    assert "smoke: 5 steps ok, 0 failed, 1 skipped" in outputs[newcomer.localize(commands[4])]
    chat = next(out for command, out in newcomer.transcript if command.startswith("manga-assist chat"))
    assert "MangaAssist> " in chat and "/history" in chat and "* history:" in chat
    serve_log = outputs[newcomer.localize("manga-assist serve")]
    assert "MangaAssist is running (memory store, fake model, guest auth)" in serve_log
    assert "stopped" in serve_log  # Ctrl-C ends it cleanly


def test_the_dynamodb_walkthrough(newcomer: Newcomer) -> None:
    commands = walkthrough("dynamodb")
    newcomer.follow(commands)
    newcomer.stop()
    assert_no_traceback(newcomer)
    outputs = dict(newcomer.transcript)
    serve_log = next(out for command, out in newcomer.transcript if command.startswith("manga-assist serve"))
    assert "MangaAssist is running (dynamodb store, fake model, guest auth)" in serve_log
    assert "stream workers:" not in serve_log  # its stream was read where the table is
    smoke = next(out for command, out in newcomer.transcript if command.startswith("manga-assist smoke"))
    assert "smoke: 5 steps ok, 0 failed, 1 skipped" in smoke
    timeline = next(out for command, out in newcomer.transcript if command.startswith("manga-assist inspect"))
    assert f"session {newcomer.session_id}" in timeline and "assistant" in timeline
    assert outputs  # every command ran


def test_the_readme_documents_every_command() -> None:
    text = README.read_text()
    for name in COMMANDS:
        assert f"`manga-assist {name}" in text, name
    for target in re.findall(r"\]\((?!https?:|#)([^)#]+)", text):
        assert (ROOT / target).exists(), f"README links to {target}, which is not in the repository"
