"""What the design asks of the deployed system, read from template.yaml: least privilege, partial
batch failures, bounded retries. The stream filters are checked against real stream records in
test_stream_filters.py, the roles against the calls the code makes in test_roles_allow_calls.py."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.dynamodb.table import table_definition
from tests.deploy.conftest import functions, sam_template


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {n: r for n, r in sam_template()["Resources"].items() if r["Type"] == kind}


def statements(function: str) -> list[dict[str, Any]]:
    """Every statement of the function's policies, those under a condition (``Fn::If``) included."""
    found = []
    for policy in functions()[function]["Policies"]:
        branches = policy["Fn::If"][1:] if "Fn::If" in policy else [policy]
        for branch in branches:
            if branch != {"Ref": "AWS::NoValue"}:
                found += branch["Statement"]
    return found


def actions(function: str) -> set[str]:
    found: set[str] = set()
    for statement in statements(function):
        action = statement["Action"]
        found.update([action] if isinstance(action, str) else action)
    return found


@pytest.mark.parametrize("function", sorted(functions()))
def test_each_role_names_its_actions_and_resources(function: str) -> None:
    for statement in statements(function):
        named = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        assert statement["Effect"] == "Allow"
        assert not any("*" in action for action in named), statement
        assert statement["Resource"] != "*", statement


def test_only_the_functions_that_push_may_push_and_only_the_message_path_streams() -> None:
    pushers = {name for name in functions() if "execute-api:ManageConnections" in actions(name)}
    assert pushers == {"MessageFunction", "HandoffFunction", "SessionCleanupFunction"}
    streamers = {name for name in functions() if "bedrock:InvokeModelWithResponseStream" in actions(name)}
    assert streamers == {"MessageFunction"}
    assert {name for name in functions() if "sqs:SendMessage" in actions(name)} == {
        "MessageFunction", "SummaryGeneratorFunction", "SessionCleanupFunction",
    }  # fmt: skip


def test_message_function_as_the_design_says() -> None:
    message = functions()["MessageFunction"]
    assert message["Timeout"] == 30
    # Off by default: a reservation must leave 100 of the account's quota unreserved, and new accounts
    # have little; 0 sets no ReservedConcurrentExecutions at all (0 would mean "never run").
    assert sam_template()["Parameters"]["MessageReservedConcurrency"]["Default"] == 0
    reservation = {"Ref": "MessageReservedConcurrency"}
    assert message["ReservedConcurrentExecutions"] == {
        "Fn::If": ["ReservesMessageConcurrency", reservation, {"Ref": "AWS::NoValue"}]
    }


def test_table_as_the_protocol_says() -> None:
    (table,) = resources("AWS::DynamoDB::Table").values()
    props = table["Properties"]
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    assert [k["AttributeName"] for k in props["KeySchema"]] == ["PK", "SK"]
    # The same indexes and attributes as ``manga-assist create-table`` makes, so tests see production's.
    made = table_definition("t")
    assert props["GlobalSecondaryIndexes"] == made["GlobalSecondaryIndexes"]
    assert props["AttributeDefinitions"] == made["AttributeDefinitions"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert props["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True


def test_event_sources_report_partial_failures_and_give_up_boundedly() -> None:
    mappings = {m["Properties"]["FunctionName"]["Ref"]: m["Properties"] for m in resources(
        "AWS::Lambda::EventSourceMapping").values()}  # fmt: skip
    assert set(mappings) == {"TurnWriterFunction", "SummaryGeneratorFunction", "SessionCleanupFunction"}
    for name, mapping in mappings.items():
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"], name
    for name in ("SummaryGeneratorFunction", "SessionCleanupFunction"):
        stream = mappings[name]
        assert stream["BisectBatchOnFunctionError"] is True
        assert 0 <= stream["MaximumRetryAttempts"] <= 10
        assert 60 <= stream["MaximumRecordAgeInSeconds"] <= 86400
        assert stream["DestinationConfig"]["OnFailure"]["Destination"] == {
            "Fn::GetAtt": ["StreamFailureQueue", "Arn"]
        }
    queue = sam_template()["Resources"]["RetryQueue"]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * functions()["TurnWriterFunction"]["Timeout"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5


def test_every_function_has_error_and_throttle_alarms_and_queues_their_depth_alarm() -> None:
    watched = {
        (a["Properties"]["MetricName"], _named(a["Properties"]["Dimensions"][0]["Value"]))
        for a in resources("AWS::CloudWatch::Alarm").values()
    }
    for function in set(functions()) - {"AuthorizerFunction"}:
        assert {("Errors", function), ("Throttles", function)} <= watched
    # The authorizer raises to refuse (API Gateway's 401), so its Errors count refusals: its faults
    # are the metric it writes, and a spike of refusals shows in the API's ClientError.
    assert {("AuthorizerFailures", "manga-assist"), ("Throttles", "AuthorizerFunction")} <= watched
    assert {("ClientError", "WebSocketApi"), ("ExecutionError", "WebSocketApi")} <= watched
    assert ("ApproximateNumberOfMessagesVisible", "RetryDeadLetterQueue") in watched
    assert ("ApproximateNumberOfMessagesVisible", "StreamFailureQueue") in watched
    assert {("IteratorAge", "SummaryGeneratorFunction"), ("IteratorAge", "SessionCleanupFunction")} <= watched


def _named(value: Any) -> str:
    if isinstance(value, str):
        return value
    return str(value.get("Ref") or value["Fn::GetAtt"][0])


def test_the_built_in_authorizer_guards_connect_only() -> None:
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"] for r in resources("AWS::ApiGatewayV2::Route").values()
    }
    assert set(routes) == {"$connect", "$default", "$disconnect"}
    assert routes["$connect"]["AuthorizationType"] == "CUSTOM"
    assert routes["$connect"]["AuthorizerId"] == {"Ref": "ConnectAuthorizer"}
    assert "AuthorizationType" not in routes["$default"] and "AuthorizationType" not in routes["$disconnect"]
    (authorizer,) = resources("AWS::ApiGatewayV2::Authorizer").values()
    assert "Condition" not in authorizer
    props = authorizer["Properties"]
    assert props["AuthorizerType"] == "REQUEST"
    assert "${AuthorizerFunction.Arn}" in props["AuthorizerUri"]["Fn::Sub"]
    # An identity source would refuse a guest (no credential at all) before the authorizer runs.
    assert "IdentitySource" not in props


def test_auth_defaults_to_jwt_and_never_offers_none() -> None:
    mode = sam_template()["Parameters"]["AuthMode"]
    assert mode["Default"] == "jwt" and "none" not in mode["AllowedValues"]


def test_jwt_mode_cannot_deploy_without_keys() -> None:
    rule = sam_template()["Rules"]["JwtModeNeedsKeys"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "AuthMode"}, "jwt"]}
    (assertion,) = rule["Assertions"]
    named = str(assertion["Assert"])
    assert "AuthJwksUrl" in named and "AuthHs256SecretArn" in named
    issuer = sam_template()["Rules"]["KeySetNeedsIssuer"]["Assertions"][0]["Assert"]
    assert issuer == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AuthIssuer"}, ""]}]}


def test_stage_access_logs_are_json_without_query_strings_or_tokens() -> None:
    import json

    (stage,) = resources("AWS::ApiGatewayV2::Stage").values()
    settings = stage["Properties"]["AccessLogSettings"]
    fields = json.loads(settings["Format"])
    assert {"requestId", "routeKey", "status", "connectionId", "authorizerError"} <= set(fields)
    variables = " ".join(fields.values()).lower()
    for leak in (
        "querystring",
        "header",
        "authorization",
        "token",
        "principalid",
        "$context.authorizer.context",
    ):
        assert leak not in variables, leak
