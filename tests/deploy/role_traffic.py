"""Each function of template.yaml as Lambda runs it, on moto in process: its own container (one process
per function, as in Lambda), configured with the environment the template gives it, its boto3
Session hooked by a ``CallRecorder``, its handler the one the template names.

``run_traffic`` drives every function through representative traffic, real AWS shapes in and out:
DynamoDB and SQS on moto, the Management API on moto (the real notifier, so its POST and DELETE are
on the wire), Bedrock answered by the recorder (the real adapter, LLM_PROVIDER=bedrock)."""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import boto3
from dependency_injector import providers

from entrypoints.authorizer_container import build_authorizer_container, set_authorizer_container
from entrypoints.container import build_container, set_container
from tests.deploy.aws_calls import CallRecorder
from tests.deploy.conftest import functions, sam_template
from tests.deploy.event_filter import passes
from tests.deploy.stream_source import TableStream, batch

REGION = "us-east-1"
TABLE = "manga-assist-roles"
API_ID = "abc123"
# Template parameters set otherwise than their defaults, so that short traffic reaches every path
# (the authorizer's HS256 secret, read by ARN, is created on moto and named by the Deployment; the
# all-customers budget on).
PARAMETERS = {"SummaryEveryTurns": "2", "DailyTokens": "1000000000"}
HS256_SECRET = "the-store-backend-and-the-authorizer-share-this"
DYNAMIC_REFERENCE = re.compile(r"^\{\{resolve:secretsmanager:(?P<arn>[^}]+):SecretString\}\}$")
QUEUES = ("RetryDeadLetterQueue", "RetryQueue", "StreamFailureQueue")


class Function:
    """One function of the template: its container, its recorder, its handler."""

    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.name = name
        self.recorder = CallRecorder(REGION)
        module, _, attribute = functions()[name]["Handler"].rpartition(".")
        self._handler: Callable[[Any, Any], Any] = getattr(importlib.import_module(module), attribute)
        self.container: Any
        self.authorizer: Any = None
        if module == "entrypoints.authorizer":  # its own container (entrypoints/authorizer_container.py)
            self.authorizer = build_authorizer_container(env)
            self.authorizer.boto_session.override(providers.Object(self.recorder.session))
        else:
            self.container = build_container(env)
            self.container.adapters.boto_session.override(providers.Object(self.recorder.session))

    def __call__(self, event: Any) -> Any:
        if self.authorizer is not None:
            set_authorizer_container(self.authorizer)
        else:
            set_container(self.container)
        return self._handler(event, None)


class Deployment:
    """The stack's resources on moto, and its functions. Physical names -> the template's logical ids
    in ``names``, for mapping recorded calls to the template's resources."""

    def __init__(self) -> None:
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        from adapters.dynamodb.table import create_table

        create_table(self.dynamodb, TABLE)
        self.queues = {name: self.sqs.create_queue(QueueName=name)["QueueUrl"] for name in QUEUES}
        self.secrets = boto3.client("secretsmanager", region_name=REGION)
        hs256_arn = self.secrets.create_secret(Name="store-backend-hs256", SecretString=HS256_SECRET)["ARN"]
        self.parameters = {**PARAMETERS, "AuthHs256SecretArn": hs256_arn}
        # What CloudFormation makes of the template's own secret (its value is resolved at deploy).
        guest = self.secrets.create_secret(Name="guest-secret", SecretString="g" * 64)["ARN"]
        dlq_arn = self._arn("RetryDeadLetterQueue")
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})
        self.sqs.set_queue_attributes(
            QueueUrl=self.queues["RetryQueue"],
            Attributes={"RedrivePolicy": redrive, "VisibilityTimeout": "0"},
        )
        model_id = str(sam_template()["Parameters"]["ModelId"]["Default"])
        self.names = {TABLE: "SessionTable", model_id: "ModelId", hs256_arn: "AuthHs256SecretArn"}
        self._guest_secret_arn = guest
        self.names.update({url: name for name, url in self.queues.items()})
        self.functions = {name: Function(name, self.environment(name)) for name in functions()}
        self.stream = TableStream(self.dynamodb, TABLE, REGION)

    def environment(self, function: str) -> dict[str, str]:
        shared = sam_template()["Globals"]["Function"]["Environment"]["Variables"]
        own = functions()[function].get("Environment", {}).get("Variables", {})
        env = {name: self._resolve(value) for name, value in {**shared, **own}.items()}
        return {**env, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}  # the Lambda runtime's

    def _resolve(self, value: Any) -> str:
        parameters = sam_template()["Parameters"]
        refs = {"SessionTable": TABLE, "RetryQueue": self.queues["RetryQueue"], "WebSocketApi": API_ID}
        refs.update({"AWS::Region": REGION, "AWS::URLSuffix": "amazonaws.com"})
        refs["GuestSecret"] = self._guest_secret_arn
        refs.update(
            {p: str(self.parameters.get(p, spec.get("Default", ""))) for p, spec in parameters.items()}
        )
        if isinstance(value, str):
            return value
        if isinstance(value, Mapping) and set(value) == {"Ref"}:
            return refs[value["Ref"]]
        if isinstance(value, Mapping) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
            resolved = re.sub(r"\$\{([^}]+)\}", lambda m: refs[m[1]], value["Fn::Sub"])
            if reference := DYNAMIC_REFERENCE.match(resolved):  # CloudFormation resolves it, not the code
                return str(self.secrets.get_secret_value(SecretId=reference["arn"])["SecretString"])
            return resolved
        raise AssertionError(f"an environment value of a shape this test does not resolve: {value!r}")

    def _arn(self, queue: str) -> str:
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.queues[queue], AttributeNames=["QueueArn"])
        return str(attributes["Attributes"]["QueueArn"])

    def __getitem__(self, name: str) -> Function:
        return self.functions[name]

    def sqs_event(self, queue: str) -> dict[str, Any]:
        """The queue's waiting messages as Lambda's SQS poller hands them over."""
        received = self.sqs.receive_message(
            QueueUrl=self.queues[queue], MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
        ).get("Messages", [])
        return {"Records": [_sqs_record(m, self._arn(queue)) for m in received]}

    def stream_event(self, function: str) -> dict[str, Any]:
        """The stream's new records that pass ``function``'s filter, as its event source mapping delivers."""
        criteria = mapping_of(function).get("FilterCriteria")
        return batch(r for r in self.stream.read() if passes(criteria, r))


def mapping_of(function: str) -> dict[str, Any]:
    for resource in sam_template()["Resources"].values():
        props: dict[str, Any] = resource["Properties"]
        if resource["Type"] == "AWS::Lambda::EventSourceMapping" and props["FunctionName"] == {
            "Ref": function
        }:
            return props
    raise LookupError(function)


def _sqs_record(message: Any, arn: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": REGION,
    }
