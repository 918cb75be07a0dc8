"""``manga-assist preflight`` against botocore's ``Stubber``: every answer has the shape of the real
service's (the Stubber checks it against the service model) and the values a real account gives."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.stub import Stubber

from adapters.bedrock import BedrockLanguageModel
from adapters.preflight import FAIL, OK, WARN, Finding
from adapters.preflight.model import PING, PING_MAX_TOKENS
from entrypoints.commands.preflight import CLIENTS, checks

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
ACCOUNT = "123456789012"
PROFILE = "global.anthropic.claude-haiku-5-5"
HAIKU_55 = "anthropic.claude-haiku-5-5"
HAIKU_45 = "anthropic.claude-haiku-4-5-20251001-v1:0"
HAIKU_35 = "anthropic.claude-3-5-haiku-20241022-v1:0"
STACK = "manga-assist"
MESSAGE_FUNCTION = "manga-assist-MessageFunction-Q1w2E3r4T5y6"


def foundation_model(
    model_id: str,
    name: str,
    status: str = "ACTIVE",
    types: tuple[str, ...] = ("INFERENCE_PROFILE",),
    **life: Any,
) -> dict[str, Any]:
    return {
        "modelDetails": {
            "modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{model_id}",
            "modelId": model_id,
            "modelName": name,
            "providerName": "Anthropic",
            "inputModalities": ["TEXT", "IMAGE"],
            "outputModalities": ["TEXT"],
            "responseStreamingSupported": True,
            "customizationsSupported": [],
            "inferenceTypesSupported": list(types),
            "modelLifecycle": {
                "status": status,
                "startOfLifeTime": datetime(2025, 10, 16, tzinfo=UTC),
                **life,
            },
        }
    }


GLOBAL_PROFILE = {
    "inferenceProfileName": "Global Anthropic Claude Haiku 5.5",
    "description": "Routes requests to Anthropic Claude Haiku 5.5 in all commercial regions.",
    "createdAt": datetime(2026, 10, 7, tzinfo=UTC),
    "updatedAt": datetime(2026, 10, 7, tzinfo=UTC),
    "inferenceProfileArn": f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/{PROFILE}",
    "models": [{"modelArn": f"arn:aws:bedrock:::foundation-model/{HAIKU_55}"}],
    "inferenceProfileId": PROFILE,
    "status": "ACTIVE",
    "type": "SYSTEM_DEFINED",
}


def availability(
    model_id: str, agreement: str = "AVAILABLE", authorized: str = "AUTHORIZED"
) -> dict[str, Any]:
    return {
        "modelId": model_id,
        "agreementAvailability": {"status": agreement},
        "authorizationStatus": authorized,
        "entitlementAvailability": "AVAILABLE",
        "regionAvailability": "AVAILABLE",
    }


CONVERSE_OK = {
    "output": {"message": {"role": "assistant", "content": [{"text": "OK"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 14, "outputTokens": 2, "totalTokens": 16},
    "metrics": {"latencyMs": 310},
}


def account_settings(limit: int, unreserved: int) -> dict[str, Any]:
    return {
        "AccountLimit": {
            "TotalCodeSize": 80530636800,
            "CodeSizeUnzipped": 262144000,
            "CodeSizeZipped": 52428800,
            "ConcurrentExecutions": limit,
            "UnreservedConcurrentExecutions": unreserved,
        },
        "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": 0},
    }


class Account:
    """The six clients of a preflight, each with its Stubber; every stubbed answer must be used."""

    def __init__(self, stack: ExitStack) -> None:
        # boto3-stubs overloads client() per literal service name; CLIENTS holds plain str.
        self.clients: dict[str, BaseClient] = {
            name: boto3.client(name, region_name="us-east-1")  # type: ignore[call-overload]
            for name in CLIENTS
        }
        self.stubs = {name: stack.enter_context(Stubber(client)) for name, client in self.clients.items()}

    def answer(self, service: str, operation: str, response: dict[str, Any], params: Any = None) -> None:
        self.stubs[service].add_response(operation, response, params)

    def refuse(self, service: str, operation: str, code: str, message: str, status: int = 400) -> None:
        self.stubs[service].add_client_error(operation, code, message, status)

    def healthy_model(self, model_id: str = PROFILE) -> None:
        self.answer(
            "bedrock", "get_inference_profile", GLOBAL_PROFILE, {"inferenceProfileIdentifier": model_id}
        )
        self.answer("bedrock", "get_foundation_model", foundation_model(HAIKU_55, "Claude Haiku 5.5"))
        self.answer(
            "bedrock", "get_foundation_model_availability", availability(HAIKU_55), {"modelId": HAIKU_55}
        )
        request = BedrockLanguageModel(model_id, max_tokens=PING_MAX_TOKENS, client=object()).request(PING)
        self.answer("bedrock-runtime", "converse", CONVERSE_OK, request)

    def no_stack(self) -> None:
        message = f"Stack with id {STACK} does not exist"
        self.refuse("cloudformation", "describe_stack_resource", "ValidationError", message)
        self.refuse("cloudformation", "describe_stacks", "ValidationError", message)

    def no_stack_resources(self) -> None:
        """The stack exists, with no table or queue outputs to look into."""
        stack = {
            "StackName": STACK,
            "CreationTime": datetime(2026, 11, 20, tzinfo=UTC),
            "StackStatus": "UPDATE_COMPLETE",
        }
        self.answer("cloudformation", "describe_stacks", {"Stacks": [stack]}, {"StackName": STACK})

    def message_function(self, reserved: int | None) -> None:
        """The stack exists and its message function reserves ``reserved`` (None: no reservation)."""
        detail = {
            "StackName": STACK,
            "StackId": f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/{STACK}/0e7b5f40-aaaa-bbbb-0123",
            "LogicalResourceId": "MessageFunction",
            "PhysicalResourceId": MESSAGE_FUNCTION,
            "ResourceType": "AWS::Lambda::Function",
            "LastUpdatedTimestamp": datetime(2026, 11, 20, tzinfo=UTC),
            "ResourceStatus": "UPDATE_COMPLETE",
        }
        self.answer(
            "cloudformation",
            "describe_stack_resource",
            {"StackResourceDetail": detail},
            {"StackName": STACK, "LogicalResourceId": "MessageFunction"},
        )
        held = {} if reserved is None else {"ReservedConcurrentExecutions": reserved}
        self.answer("lambda", "get_function_concurrency", held, {"FunctionName": MESSAGE_FUNCTION})

    def run(self, model_id: str = PROFILE, reserved: int = 0, invoke: bool = True) -> dict[str, Finding]:
        findings = checks(self.clients, model_id, reserved, STACK, invoke=invoke, now=NOW)
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()
        return {f.check: f for f in findings}


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with ExitStack() as stack:
        yield Account(stack)


def test_a_ready_account_for_a_first_deployment(account: Account) -> None:
    account.healthy_model()
    account.answer("lambda", "get_account_settings", account_settings(1000, 1000))
    account.no_stack()
    found = account.run()
    assert {f.status for f in found.values()} == {OK}, found
    assert "ACTIVE" in found["model lifecycle"].detail and "1 region" in found["inference profile"].detail
    assert "no temperature sent" in found["model table"].detail
    assert "14 tokens in" in found["model invocation"].detail
    assert "first deployment creates" in found["stack"].detail


def test_a_legacy_model_is_a_warning_with_its_end_of_life_date(account: Account) -> None:
    life = {
        "legacyTime": datetime(2026, 10, 15, tzinfo=UTC),
        "publicExtendedAccessTime": datetime(2027, 1, 15, tzinfo=UTC),
        "endOfLifeTime": datetime(2027, 4, 15, tzinfo=UTC),
    }
    legacy = foundation_model(
        HAIKU_45, "Claude Haiku 4.5", "LEGACY", ("ON_DEMAND", "INFERENCE_PROFILE"), **life
    )
    account.answer("bedrock", "get_foundation_model", legacy, {"modelIdentifier": HAIKU_45})
    account.answer("bedrock", "get_foundation_model_availability", availability(HAIKU_45))
    account.answer("lambda", "get_account_settings", account_settings(1000, 1000))
    account.no_stack()
    found_map = account.run(HAIKU_45, invoke=False)
    lifecycle = found_map["model lifecycle"]
    assert lifecycle.status == WARN
    assert "end of life on 2027-04-15 (135 days)" in lifecycle.detail and "2027-01-15" in lifecycle.detail
    assert "inference profile" not in found_map  # a model id, invoked in its own region


def test_a_model_past_its_end_of_life_fails(account: Account) -> None:
    ended = foundation_model(
        HAIKU_35,
        "Claude 3.5 Haiku",
        "LEGACY",
        ("ON_DEMAND",),
        endOfLifeTime=datetime(2026, 6, 19, tzinfo=UTC),
    )
    account.answer("bedrock", "get_foundation_model", ended)
    account.answer("bedrock", "get_foundation_model_availability", availability(HAIKU_35))
    account.answer("lambda", "get_account_settings", account_settings(1000, 1000))
    account.no_stack()
    found = account.run(HAIKU_35, invoke=False)
    assert found["model lifecycle"].status == FAIL and "2026-06-19" in found["model lifecycle"].detail
    assert found["model table"].status == WARN  # not a model we support either


def test_a_model_bedrock_no_longer_knows_fails(account: Account) -> None:
    account.refuse(
        "bedrock",
        "get_foundation_model",
        "ResourceNotFoundException",
        "The model anthropic.claude-v2 was not found.",
    )
    account.answer("bedrock", "get_foundation_model_availability", availability("anthropic.claude-v2"))
    account.answer("lambda", "get_account_settings", account_settings(1000, 1000))
    account.no_stack()
    found = account.run("anthropic.claude-v2", invoke=False)
    assert found["model lifecycle"].status == FAIL and "end of life" in found["model lifecycle"].detail


def test_a_model_only_reached_through_a_profile_fails_when_named_by_its_id(account: Account) -> None:
    account.answer("bedrock", "get_foundation_model", foundation_model(HAIKU_55, "Claude Haiku 5.5"))
    account.answer("bedrock", "get_foundation_model_availability", availability(HAIKU_55))
    account.answer("lambda", "get_account_settings", account_settings(1000, 1000))
    account.no_stack()
    found = account.run(HAIKU_55, invoke=False)
    assert (
        found["model invocation"].status == FAIL and f"global.{HAIKU_55}" in found["model invocation"].detail
    )


def test_model_access_not_granted_fails_twice_over(account: Account) -> None:
    account.answer("bedrock", "get_inference_profile", GLOBAL_PROFILE)
    account.answer("bedrock", "get_foundation_model", foundation_model(HAIKU_55, "Claude Haiku 5.5"))
    account.answer("bedrock", "get_foundation_model_availability", availability(HAIKU_55, "NOT_AVAILABLE"))
    account.refuse(
        "bedrock-runtime",
        "converse",
        "AccessDeniedException",
        "Model access is denied due to IAM user or service role is not authorized to perform the required "
        "AWS Marketplace actions (aws-marketplace:ViewSubscriptions, aws-marketplace:Subscribe).",
        403,
    )
    account.answer("lambda", "get_account_settings", account_settings(1000, 1000))
    account.no_stack()
    found = account.run()
    assert found["model access"].status == FAIL and "grant model access first" in found["model access"].detail
    assert found["model invocation"].status == FAIL and "aws-marketplace" in found["model invocation"].detail


def test_an_unknown_profile_fails_at_once(account: Account) -> None:
    account.refuse("bedrock", "get_inference_profile", "ResourceNotFoundException", "not found")
    account.answer("bedrock", "get_foundation_model_availability", availability(HAIKU_55))
    account.answer("lambda", "get_account_settings", account_settings(1000, 1000))
    account.no_stack()
    found = account.run(invoke=False)
    assert found["inference profile"].status == FAIL and "model lifecycle" not in found


@pytest.mark.parametrize(
    ("limit", "unreserved", "reserved", "status"),
    [
        (1000, 1000, 0, OK),
        (1000, 1000, 900, OK),  # leaves exactly 100
        (1000, 1000, 901, FAIL),
        (400, 400, 500, FAIL),  # the old default on a new account
        (10, 10, 0, WARN),  # a new account's lowered quota: deployable, but every function shares 10
    ],
)
def test_the_concurrency_quota_against_the_reservation(
    account: Account, limit: int, unreserved: int, reserved: int, status: str
) -> None:
    account.healthy_model()
    account.answer("lambda", "get_account_settings", account_settings(limit, unreserved))
    account.no_stack()
    found = account.run(reserved=reserved)
    assert found["lambda concurrency"].status == status, found["lambda concurrency"]


@pytest.mark.parametrize(
    ("unreserved", "held", "reserved", "status"),
    [
        (100, 900, 900, OK),  # a redeployment keeping its 900: they are counted once, not twice
        (100, 900, 901, FAIL),  # one more than it holds leaves 99
        (600, 400, 900, OK),  # raised from 400 to 900 leaves exactly 100
        (600, 0, 900, FAIL),  # nothing held back: the unreserved 600 cannot give 900 and keep 100
    ],
)
def test_a_redeployment_counts_the_message_functions_reservation_once(
    account: Account, unreserved: int, held: int, reserved: int, status: str
) -> None:
    """Lambda's UnreservedConcurrentExecutions already leaves out what the function reserves now."""
    account.healthy_model()
    account.message_function(reserved=held or None)
    account.answer("lambda", "get_account_settings", account_settings(1000, unreserved))
    account.no_stack_resources()
    found = account.run(reserved=reserved)
    assert found["lambda concurrency"].status == status, found["lambda concurrency"]
    said = f"{held} held by the message function" in found["lambda concurrency"].detail
    assert said == (held > 0 and status == OK)


def test_an_existing_stack_reports_its_table_and_unstored_replies(account: Account) -> None:
    account.healthy_model()
    account.message_function(reserved=None)
    account.answer("lambda", "get_account_settings", account_settings(1000, 1000))
    region_url = f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}"
    outputs = {
        "SessionTableName": "manga-assist-SessionTable-1XK2Q9ZP0V3C",
        "RetryQueueUrl": f"{region_url}/manga-assist-RetryQueue-aB3dE5",
        "RetryDeadLetterQueueUrl": f"{region_url}/manga-assist-RetryDeadLetterQueue-fG7hI9",
    }
    stack = {
        "StackId": f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/{STACK}/0e7b5f40-aaaa-bbbb-0123",
        "StackName": STACK,
        "CreationTime": datetime(2026, 11, 20, tzinfo=UTC),
        "StackStatus": "UPDATE_COMPLETE",
        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
    }
    account.answer("cloudformation", "describe_stacks", {"Stacks": [stack]}, {"StackName": STACK})
    table = {
        "TableName": outputs["SessionTableName"],
        "TableStatus": "ACTIVE",
        "ItemCount": 1234,
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }
    account.answer("dynamodb", "describe_table", {"Table": table})
    account.answer("sqs", "get_queue_attributes", {"Attributes": {"ApproximateNumberOfMessages": "0"}})
    waiting = {"ApproximateNumberOfMessages": "3", "ApproximateNumberOfMessagesNotVisible": "0"}
    account.answer("sqs", "get_queue_attributes", {"Attributes": waiting})
    found = account.run()
    assert found["stack"].status == OK and found["table"].status == OK
    assert found["retry queue"].status == OK
    assert (
        found["dead-letter queue"].status == WARN
        and "manga-assist redrive" in found["dead-letter queue"].detail
    )
