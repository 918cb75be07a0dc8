"""What each function's role allows, read from the CloudFormation that aws-sam-translator makes of
template.yaml, as (action, resource) pairs in the words of ``aws_calls``; and what Lambda's own event
source mappings need from the function's role (their pollers act under it).

Resources are CloudFormation expressions, classified by their shape. An unknown shape, a statement
that is not a plain Allow, or a Condition fails loudly: this reading must never be generous by guess.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tests.deploy.aws_calls import Need, Resource

CONNECTIONS = re.compile(
    r"^arn:\$\{AWS::Partition\}:execute-api:\$\{AWS::Region\}:\$\{AWS::AccountId\}:"
    r"\$\{WebSocketApi\}/\$\{StageName\}/(?P<method>[A-Z]+|\*)/@connections/\*$"
)
INDEX = re.compile(r"^\$\{(?P<table>\w+)\.Arn\}/index/(?P<index>[\w.-]+|\*)$")
STREAMS = re.compile(r"^\$\{(?P<table>\w+)\.Arn\}/stream/\*$")
MODEL = re.compile(
    r"^arn:\$\{AWS::Partition\}:bedrock:(\$\{AWS::Region\}|\*):(\$\{AWS::AccountId\})?:"
    r"(foundation-model|inference-profile)/"
)

# Parameters that name a Secrets Manager secret by ARN.
SECRET_PARAMETERS = ("AuthHs256SecretArn",)

# What Lambda's pollers need, by event source (AWS's AWSLambdaSQSQueueExecutionRole and
# AWSLambdaDynamoDBExecutionRole managed policies, and the on-failure destination's SendMessage).
SQS_POLLER = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
STREAM_POLLER = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)


class UnreadablePolicy(AssertionError):
    """A policy this reading does not understand: teach it, do not guess."""


def role_grants(translated: Mapping[str, Any], function: str) -> set[Need]:
    resources = translated["Resources"]
    role = resources[function]["Properties"]["Role"]
    if role != {"Fn::GetAtt": [f"{function}Role", "Arn"]}:
        raise UnreadablePolicy(f"{function}: a role not made by SAM from its Policies: {role!r}")
    grants: set[Need] = set()
    for policy in _branches(resources[f"{function}Role"]["Properties"].get("Policies", [])):
        for statement in policy["PolicyDocument"]["Statement"]:
            if statement.get("Effect") != "Allow" or set(statement) - {"Effect", "Action", "Resource", "Sid"}:
                raise UnreadablePolicy(f"{function}: only plain Allow statements are read: {statement!r}")
            actions = _listed(statement["Action"])
            for resource in _listed(statement["Resource"]):
                grants.update(
                    (action, found) for action in actions for found in classify(resource, resources)
                )
    return grants


def _branches(policies: list[Any]) -> list[Any]:
    """A policy under ``Fn::If`` is read as granted: its condition holds in some deployment."""
    found = []
    for policy in policies:
        if isinstance(policy, Mapping) and set(policy) == {"Fn::If"}:
            _, then, otherwise = policy["Fn::If"]
            found += [b for b in (then, otherwise) if b != {"Ref": "AWS::NoValue"}]
        else:
            found.append(policy)
    return found


def allows(grants: set[Need], need: Need) -> bool:
    action, (kind, name) = need
    return any(a == action and k == kind and n in (name, "*") for a, (k, n) in grants)


def classify(resource: Any, resources: Mapping[str, Any]) -> list[Resource]:
    """The resources one ``Resource`` entry names."""
    if isinstance(resource, Mapping) and "Fn::If" in resource:
        _, then, otherwise = resource["Fn::If"]
        return [
            found
            for branch in (then, otherwise)
            if branch != {"Ref": "AWS::NoValue"}
            for found in classify(branch, resources)
        ]
    if isinstance(resource, Mapping) and "Fn::GetAtt" in resource:
        logical, attribute = resource["Fn::GetAtt"]
        kind = resources[logical]["Type"]
        if (kind, attribute) == ("AWS::DynamoDB::Table", "Arn"):
            return [("table", logical)]
        if (kind, attribute) == ("AWS::DynamoDB::Table", "StreamArn"):
            return [("stream", logical)]
        if (kind, attribute) == ("AWS::SQS::Queue", "Arn"):
            return [("queue", logical)]
    if isinstance(resource, Mapping) and set(resource) == {"Ref"} and resource["Ref"] in SECRET_PARAMETERS:
        return [("secret", resource["Ref"])]
    if isinstance(resource, Mapping) and "Fn::Sub" in resource:
        sub = resource["Fn::Sub"]
        text = sub if isinstance(sub, str) else sub[0]
        if match := CONNECTIONS.match(text):
            return [("connections", match["method"])]
        if (match := INDEX.match(text)) and _is_table(match["table"], resources):
            return [("index", match["index"])]
        if (match := STREAMS.match(text)) and _is_table(match["table"], resources):
            return [("stream", match["table"])]
        if MODEL.match(text) and ("${ModelId}" in text or "${Provider}.${Model}" in text):
            return [("model", "ModelId")]
    raise UnreadablePolicy(f"a Resource of a shape this reading does not know: {resource!r}")


def poller_needs(template: Mapping[str, Any], function: str) -> dict[Need, str]:
    """What the event source mappings of ``function`` need from its role, each with its reason."""
    found: dict[Need, str] = {}
    resources = template["Resources"]
    for name, mapping in resources.items():
        props = mapping["Properties"]
        if mapping["Type"] != "AWS::Lambda::EventSourceMapping" or props["FunctionName"] != {"Ref": function}:
            continue
        source = classify(props["EventSourceArn"], resources)
        ((kind, logical),) = source
        if kind == "queue":
            found.update({(a, ("queue", logical)): f"{name}: Lambda polls the queue" for a in SQS_POLLER})
        elif kind == "stream":
            found.update(
                {(a, ("stream", logical)): f"{name}: Lambda reads the stream" for a in STREAM_POLLER}
            )
        else:
            raise UnreadablePolicy(f"{name}: an event source this reading does not know: {source!r}")
        destination = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        if destination is not None:
            ((kind, logical),) = classify(destination, resources)
            assert kind == "queue", destination
            found[("sqs:SendMessage", ("queue", logical))] = f"{name}: Lambda reports batches given up"
    return found


def _is_table(logical: str, resources: Mapping[str, Any]) -> bool:
    return bool(resources.get(logical, {}).get("Type") == "AWS::DynamoDB::Table")


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
