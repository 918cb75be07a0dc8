"""What an operator sees: the JSON log lines and the EMF metrics a handler writes to stdout."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from types import SimpleNamespace
from typing import Any

import pytest

from application.errors import ModelUnavailable
from entrypoints import message
from entrypoints.lambda_logging import logger
from testing.harness import Chat, message_event

SECRET = "my card number is 4111-1111-1111-1111"
CONN = "connObserve01="


def run(chat: Chat, body: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Invoke the handler as Lambda would, reading what it wrote to stdout: logs and EMF metrics."""
    stdout = io.StringIO()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(stdout)
    try:
        with contextlib.redirect_stdout(stdout):
            event = message_event(CONN, body)
            context = SimpleNamespace(aws_request_id="lambda-req-1", function_name="message")
            message.handler(event, context)
            chat.settle()
    finally:
        handler.setStream(previous)
    lines = [json.loads(line) for line in stdout.getvalue().splitlines() if line.startswith("{")]
    metrics = [line for line in lines if "_aws" in line]
    logs = [line for line in lines if "_aws" not in line]
    return logs, metrics


def metric_names(metrics: list[dict[str, Any]]) -> set[str]:
    return {m["Name"] for line in metrics for d in line["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}


@pytest.fixture
def connected(chat: Chat) -> Chat:
    assert chat.connect(CONN, "cust-1") == 200
    return chat


def test_a_message_logs_ids_and_outcome_but_never_its_words(connected: Chat) -> None:
    logs, metrics = run(connected, {"action": "sendMessage", "message": SECRET, "message_id": "m-obs-1"})
    handled = [line for line in logs if line["message"] == "message handled"]
    assert len(handled) == 1
    line = handled[0]
    assert line["connection_id"] == CONN and line["message_id"] == "m-obs-1"
    assert line["session_id"] and line["lambda_request_id"] == "lambda-req-1"
    assert line["answered"] is True and line["level"] == "INFO"
    assert all(SECRET not in json.dumps(entry) for entry in logs + metrics)
    assert {
        "MessagesReceived",
        "RepliesSent",
        "ModelFirstTokenLatency",
        "ModelReplyLatency",
        "TokensIn",
        "TokensOut",
    } <= metric_names(metrics)


def test_a_refused_frame_is_counted_by_its_code(connected: Chat) -> None:
    logs, metrics = run(connected, {"action": "sendMessage", "message": "   "})
    refused = [line for line in metrics if "FramesRefused" in line]
    assert refused and refused[0]["code"] == "bad_request"
    assert ["code", "service"] in [
        sorted(d) for d in refused[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
    ]
    assert any(line["message"].startswith("frame refused") and line["connection_id"] == CONN for line in logs)


def test_a_model_failure_is_an_error_line_and_a_metric_without_content(connected: Chat) -> None:
    connected.llm.fail_next(ModelUnavailable("throttled"), after_deltas=2)
    logs, metrics = run(connected, {"action": "sendMessage", "message": SECRET, "message_id": "m-obs-2"})
    errors = [line for line in logs if line["level"] == "ERROR"]
    assert errors and errors[0]["message_id"] == "m-obs-2" and errors[0]["connection_id"] == CONN
    assert {"ModelFailures", "FramesRefused"} <= {
        k for line in metrics for k in line if not k.startswith("_")
    }
    failures = [line for line in metrics if "ModelFailures" in line]
    assert [line.get("kind") for line in failures if "kind" in line] == ["ModelUnavailable"]
    assert [line["ModelFailures"] for line in failures if "kind" not in line] == [[1.0]]  # the total
    assert all(SECRET not in json.dumps(entry) for entry in logs + metrics)


def _logged(call: Any) -> str:
    """Everything a call wrote: the handlers' JSON lines, EMF metrics and the standard loggers."""
    stdout = io.StringIO()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(stdout)
    plain = logging.StreamHandler(stdout)
    logging.getLogger().addHandler(plain)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.suppress(Exception):
            call()
    finally:
        handler.setStream(previous)
        logging.getLogger().removeHandler(plain)
    return stdout.getvalue()


@pytest.mark.parametrize("carrier", ["header", "subprotocol", "query"])
def test_a_credential_is_never_logged_whether_it_verifies_or_not(carrier: str) -> None:
    """The token (or any part of it: its signature alone is a secret's proof) never reaches a log,
    when it lets the caller in, when it is refused, and when $connect runs after it."""
    from entrypoints import authorizer, connect
    from entrypoints.authorizer_container import build_authorizer_container, set_authorizer_container
    from testing.harness import connect_event
    from testing.issuer import HS256_SECRET, sign_hs256
    from tests.adversarial.test_authorizer import authorizer_event

    set_authorizer_container(
        build_authorizer_container({"AUTH_MODE": "jwt", "AUTH_HS256_SECRET": HS256_SECRET})
    )
    try:
        good = sign_hs256({"sub": "cust-log", "exp": 4_000_000_000}, HS256_SECRET.encode())
        bad = sign_hs256({"sub": "cust-log", "exp": 4_000_000_000}, b"not-the-secret-at-all-0123456789")
        expired = sign_hs256({"sub": "cust-log", "exp": 1}, HS256_SECRET.encode())
        for token in (good, bad, expired, "x" * 9000):
            event = authorizer_event(token, carrier)
            written = _logged(lambda e=event: authorizer.handler(e, None))
            written += _logged(
                lambda e=event: connect.handler(
                    {**connect_event("connLog01=", authorizer={"customer_id": "cust-log"}), **e}, None
                )
            )
            assert "connection" in written, "the handlers logged nothing: this test would prove nothing"
            for part in {token, *token.split(".")} - {""}:
                if len(part) > 12:
                    assert part not in written, f"a credential ({carrier}) reached the log"
    finally:
        set_authorizer_container(None)
