"""Each function's role in template.yaml against the AWS calls its code really makes: every function
runs its handler on moto through representative traffic (role_scenario), every call is recorded on
the wire (aws_calls), and the role that aws-sam-translator makes from the template must allow each one
on the right resource — else AccessDenied, first seen in AWS. The other way round, a role must grant
no DynamoDB or SQS action its code and its event sources never use, unless listed here with a reason."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from entrypoints.container import set_container
from tests.deploy.aws_calls import Call, Need, UnknownCall, needs
from tests.deploy.conftest import functions, offline
from tests.deploy.role_grants import allows, poller_needs, role_grants
from tests.deploy.role_scenario import run_traffic
from tests.deploy.role_traffic import Deployment

# Granted on purpose though no test makes the call: (function, action, resource) -> why.
GRANTED_UNEXERCISED: dict[tuple[str, str, tuple[str, str]], str] = {
    ("MessageFunction", "dynamodb:DeleteItem", ("table", "SessionTable")): (
        "forgets an agent's console that a push found gone (GoneException, which moto never raises)"
    ),
    ("HandoffFunction", "dynamodb:DeleteItem", ("table", "SessionTable")): (
        "forgets an agent's console that a push found gone (GoneException, which moto never raises)"
    ),
}
# Least privilege is checked for these actions: all the template grants besides logging.
LEAST_PRIVILEGE = ("dynamodb:", "sqs:", "bedrock:", "execute-api:", "secretsmanager:")


@pytest.fixture(scope="module")
def recorded() -> Iterator[tuple[dict[str, list[Call]], dict[str, str]]]:
    with pytest.MonkeyPatch.context() as patch:
        offline(patch)  # no socket: nothing reaches AWS, whatever the mocks miss
        patch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
        with mock_aws():
            deployment = Deployment()
            try:
                run_traffic(deployment)
            finally:
                set_container(None)
            yield {n: list(f.recorder.calls) for n, f in deployment.functions.items()}, deployment.names


def used(recorded: tuple[dict[str, list[Call]], dict[str, str]], function: str) -> dict[Need, str]:
    calls, names = recorded
    found = {
        need: f"{call.service} {call.operation}" for call in calls[function] for need in needs(call, names)
    }
    return found


def test_the_traffic_makes_every_function_call_aws(recorded: Any) -> None:
    calls, _ = recorded
    assert {name for name, made in calls.items() if made} == set(functions())


@pytest.mark.parametrize("function", sorted(functions()))
def test_the_role_allows_every_call_the_code_made(
    recorded: Any, translated_template: dict[str, Any], function: str
) -> None:
    grants = role_grants(translated_template, function)
    missing = sorted(
        (need, call) for need, call in used(recorded, function).items() if not allows(grants, need)
    )
    assert missing == [], f"{function}: AccessDenied in AWS for these (permission, call made)"


@pytest.mark.parametrize("function", sorted(functions()))
def test_the_role_allows_what_its_event_sources_need(
    translated_template: dict[str, Any], function: str
) -> None:
    grants = role_grants(translated_template, function)
    missing = sorted(need for need in poller_needs(translated_template, function) if not allows(grants, need))
    assert missing == [], f"{function}: its event source mapping cannot work without these"


@pytest.mark.parametrize("function", sorted(functions()))
def test_the_role_grants_nothing_unused(
    recorded: Any, translated_template: dict[str, Any], function: str
) -> None:
    wanted = {*used(recorded, function), *poller_needs(translated_template, function)}
    allowed = {(a, r) for (f, a, r) in GRANTED_UNEXERCISED if f == function}
    unused = sorted(
        grant
        for grant in role_grants(translated_template, function)
        if grant[0].startswith(LEAST_PRIVILEGE)
        and grant not in allowed
        and not any(allows({grant}, need) for need in wanted)
    )
    assert unused == [], f"{function}: granted, never used by its code nor its event sources"


def test_the_allow_list_names_grants_that_exist_and_are_unused(
    recorded: Any, translated_template: dict[str, Any]
) -> None:
    for (function, action, resource), reason in GRANTED_UNEXERCISED.items():
        assert reason.strip(), (function, action, resource)
        assert (action, resource) in role_grants(translated_template, function), f"stale: {function} {action}"
        assert (action, resource) not in used(recorded, function), f"exercised now: drop {function} {action}"


def test_calls_map_to_the_permissions_aws_checks() -> None:
    names = {"t": "SessionTable", "https://q": "RetryQueue", "m:1": "ModelId"}
    transaction = {
        "TransactItems": [
            {"Put": {"TableName": "t"}},
            {"Update": {"TableName": "t"}},
            {"Delete": {"TableName": "t"}},
            {"ConditionCheck": {"TableName": "t"}},
        ]
    }
    table = ("table", "SessionTable")
    assert needs(Call("dynamodb", "TransactWriteItems", "POST", "/", transaction), names) == {
        ("dynamodb:PutItem", table),
        ("dynamodb:UpdateItem", table),
        ("dynamodb:DeleteItem", table),
        ("dynamodb:ConditionCheckItem", table),
    }
    query = {"TableName": "t", "IndexName": "GSI2-connection-lookup"}
    assert needs(Call("dynamodb", "Query", "POST", "/", query), names) == {
        ("dynamodb:Query", ("index", "GSI2-connection-lookup"))
    }
    batch: dict[str, Any] = {"RequestItems": {"t": [{"DeleteRequest": {}}]}}
    assert needs(Call("dynamodb", "BatchWriteItem", "POST", "/", batch), names) == {
        ("dynamodb:BatchWriteItem", table)
    }
    assert needs(Call("sqs", "SendMessageBatch", "POST", "/", {"QueueUrl": "https://q"}), names) == {
        ("sqs:SendMessage", ("queue", "RetryQueue"))
    }
    for method in ("POST", "DELETE"):
        call = Call("apigatewaymanagementapi", "X", method, "/@connections/c-1", {})
        assert needs(call, names) == {("execute-api:ManageConnections", ("connections", method))}
    for operation, action in (
        ("Converse", "InvokeModel"),
        ("ConverseStream", "InvokeModelWithResponseStream"),
    ):
        call = Call("bedrock-runtime", operation, "POST", "/model/m:1/converse", {})
        assert needs(call, names) == {(f"bedrock:{action}", ("model", "ModelId"))}
    with pytest.raises(UnknownCall):
        needs(Call("dynamodb", "TransactWriteItems", "POST", "/", {"TransactItems": [{"Nope": {}}]}), names)
    with pytest.raises(UnknownCall):
        needs(Call("s3", "GetObject", "GET", "/b/k", {}), names)
    with pytest.raises(UnknownCall):
        needs(Call("dynamodb", "GetItem", "POST", "/", {"TableName": "other"}), names)
