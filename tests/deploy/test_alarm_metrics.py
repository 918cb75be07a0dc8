"""Every alarm on our own metrics watches a metric the code really emits: each scenario below makes the
message handler emit one (fake model, memory store, real Powertools EMF on stdout), and the alarm's
namespace, metric name and exact dimension set must be among what was written. CloudWatch matches
dimensions exactly: an alarm whose set differs by one dimension watches a metric that never exists."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from attrs import evolve
from dependency_injector import providers

from application.errors import ModelFailed, ModelUnavailable, Unavailable
from application.ports import Frame
from domain.limits import LimitPolicy
from entrypoints import authorizer, message
from entrypoints.lambda_logging import SERVICE, logger, metrics
from testing.fakes import FlakyRepository
from testing.harness import Chat, message_event
from testing.notifier import RecordingNotifier
from tests.deploy.conftest import sam_template

CONN = "connAlarm01="
Metric = tuple[str, str, frozenset[tuple[str, str]]]  # namespace, name, dimensions


def our_alarms() -> dict[str, Metric]:
    namespace = sam_template()["Globals"]["Function"]["Environment"]["Variables"][
        "POWERTOOLS_METRICS_NAMESPACE"
    ]
    return {
        name: (
            resource["Properties"]["Namespace"],
            resource["Properties"]["MetricName"],
            frozenset((d["Name"], d["Value"]) for d in resource["Properties"]["Dimensions"]),
        )
        for name, resource in sam_template()["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        and resource["Properties"].get("Namespace") == namespace
    }


def emitted(lines: list[dict[str, Any]]) -> set[Metric]:
    """Every (namespace, metric, dimension set) an EMF line declares, with the values it carries."""
    found: set[Metric] = set()
    for line in lines:
        for directive in line["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                dimensions = frozenset((name, str(line[name])) for name in dimension_set)
                found |= {(directive["Namespace"], m["Name"], dimensions) for m in directive["Metrics"]}
    return found


def emf_of(invoke: Callable[[], Any]) -> set[Metric]:
    """What ``invoke`` (a handler called as Lambda would) wrote to stdout as EMF."""
    stdout = io.StringIO()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(stdout)
    try:
        # An authorizer refuses by raising: what it wrote on the way out is what counts.
        with contextlib.redirect_stdout(stdout), contextlib.suppress(Exception):
            invoke()
    finally:
        handler.setStream(previous)
    lines = [json.loads(line) for line in stdout.getvalue().splitlines() if line.startswith("{")]
    return emitted([line for line in lines if "_aws" in line])


def message_emf(body: dict[str, Any]) -> set[Metric]:
    context = SimpleNamespace(aws_request_id="lambda-req-alarm", function_name="message")
    return emf_of(lambda: message.handler(message_event(CONN, body), context))


class PushesFailForMessages(RecordingNotifier):
    """The Management API failing after its retries, for whole-reply frames only."""

    def push(self, connection_id: str, frame: Frame) -> None:
        if frame.get("type") == "message":
            raise Unavailable("injected: the Management API keeps failing")
        super().push(connection_id, frame)


def model_unavailable(chat: Chat) -> None:
    chat.llm.fail_next(ModelUnavailable("injected: throttled after retries"))


def model_refused_our_request(chat: Chat) -> None:
    chat.llm.fail_next(ModelFailed("injected: ValidationException"))


def reply_write_refused(chat: Chat) -> None:
    flaky = FlakyRepository(chat.container.adapters.memory_repository())
    flaky.fail("complete_exchange", 1, Unavailable("injected: throttled after retries"))
    chat.container.adapters.repository.override(providers.Object(flaky))


def management_api_failing(chat: Chat) -> None:
    chat.notifier = PushesFailForMessages()
    chat.container.adapters.notifier.override(providers.Object(chat.notifier))


def an_all_customers_budget_set(chat: Chat) -> None:
    settings = chat.container.use_cases.settings()
    budget = LimitPolicy(messages_per_minute=0, customer_daily_tokens=0, daily_tokens=10**9)
    chat.container.use_cases.settings.override(providers.Object(evolve(settings, limits=budget)))


# Alarm -> what makes the code emit its metric.
SCENARIOS: dict[str, Callable[[Chat], None]] = {
    "ModelFailuresAlarm": model_unavailable,
    "InternalErrorFramesAlarm": model_refused_our_request,
    "RepliesQueuedAlarm": reply_write_refused,
    "RepliesUndeliveredAlarm": management_api_failing,
    "DailyTokenBudgetAlarm": an_all_customers_budget_set,
}


@pytest.fixture
def connected(chat: Chat) -> Iterator[Chat]:
    assert chat.connect(CONN, "cust-1") == 200
    yield chat
    chat.container.adapters.repository.reset_override()


def test_every_alarm_on_our_metrics_has_a_scenario() -> None:
    assert set(our_alarms()) == set(SCENARIOS) | {"AuthorizerFailuresAlarm"}


def test_the_authorizer_alarm_watches_what_a_failing_authorizer_emits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken() -> Any:
        raise RuntimeError("injected: the authorizer's configuration cannot be read")

    monkeypatch.setattr(authorizer, "get_authorizer_container", broken)
    event = {"type": "REQUEST", "methodArn": "arn:aws:execute-api:us-east-1:123456789012:api/prod/$connect"}
    context = SimpleNamespace(aws_request_id="lambda-req-authorizer", function_name="authorizer")
    written = emf_of(lambda: authorizer.handler(event, context))
    assert our_alarms()["AuthorizerFailuresAlarm"] in written, written


def test_the_template_names_the_namespace_and_service_the_code_writes() -> None:
    variables = sam_template()["Globals"]["Function"]["Environment"]["Variables"]
    assert (variables["POWERTOOLS_METRICS_NAMESPACE"], variables["POWERTOOLS_SERVICE_NAME"]) == (
        metrics.namespace,
        SERVICE,
    )


@pytest.mark.parametrize("alarm", sorted(SCENARIOS))
def test_the_alarm_watches_a_metric_the_code_emits(connected: Chat, alarm: str) -> None:
    SCENARIOS[alarm](connected)
    written = message_emf({"action": "sendMessage", "message": "Is Frieren 3 in stock?", "message_id": "m-1"})
    assert our_alarms()[alarm] in written, sorted(m for m in written if m[1] == our_alarms()[alarm][1])


@pytest.mark.usefixtures("connected")
def test_a_quiet_message_emits_none_of_the_alarmed_metrics() -> None:
    """The scenarios matter: a reply that goes well writes none of these."""
    written = message_emf({"action": "sendMessage", "message": "Hello!", "message_id": "m-ok"})
    assert not set(our_alarms().values()) & written
