"""The account around the model: Lambda's concurrency quota against the reservation the template
would make, and — when the stack already exists — its table and queues."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from adapters.preflight import FAIL, OK, WARN, Finding

# Lambda keeps this many executions unreserved per account and region: a reservation that would
# leave fewer fails the stack (PutFunctionConcurrency refuses it).
UNRESERVED_MINIMUM = 100
# Below this, the account is a new one with a lowered quota: every function shares it.
COMFORTABLE_LIMIT = 1000
# The template's logical id of the function the reservation is for.
MESSAGE_FUNCTION = "MessageFunction"
CONCURRENCY_QUOTA = "Service Quotas, Lambda, 'Concurrent executions' (L-B99A9384)"


def concurrency(lambda_client: Any, reserved: int, held: int = 0) -> Finding:
    """``held``: what the message function reserves now (a redeployment). Lambda's
    ``UnreservedConcurrentExecutions`` already leaves it out, and a redeployment replaces it rather
    than adds to it: it is counted back before the new reservation is taken."""
    try:
        settings = lambda_client.get_account_settings()["AccountLimit"]
    except ClientError as error:
        return Finding("lambda concurrency", WARN, f"could not read it: {error.response['Error']['Code']}")
    limit = int(settings["ConcurrentExecutions"])
    unreserved = int(settings["UnreservedConcurrentExecutions"])
    left = unreserved + held - reserved
    if reserved and left < UNRESERVED_MINIMUM:
        detail = (
            f"reserving {reserved} for the message function would leave {left} of "
            f"{limit} unreserved (Lambda keeps {UNRESERVED_MINIMUM}): the stack would fail. Deploy "
            f"with MessageReservedConcurrency=0, or ask for more ({CONCURRENCY_QUOTA})"
        )
        return Finding("lambda concurrency", FAIL, detail)
    holds = f" and {held} held by the message function now" if held else ""
    shape = (
        f"limit {limit}, {unreserved} unreserved{holds}, the message function reserves {reserved or 'none'}"
    )
    if limit < COMFORTABLE_LIMIT:
        detail = (
            f"{shape}: every frame and stream batch of every function shares {limit} executions; "
            f"ask for more before traffic ({CONCURRENCY_QUOTA})"
        )
        return Finding("lambda concurrency", WARN, detail)
    return Finding("lambda concurrency", OK, shape)


def held_reservation(cloudformation: Any, lambda_client: Any, stack_name: str) -> int:
    """What the stack's message function reserves now: 0 on a first deployment (no stack), with no
    reservation, or when it cannot be read (then the check counts none back: it may fail, never pass,
    wrongly)."""
    try:
        resource = cloudformation.describe_stack_resource(
            StackName=stack_name, LogicalResourceId=MESSAGE_FUNCTION
        )
        name = resource["StackResourceDetail"]["PhysicalResourceId"]
        answer = lambda_client.get_function_concurrency(FunctionName=name)
    except ClientError:
        return 0
    return int(answer.get("ReservedConcurrentExecutions") or 0)


def stack_resources(cloudformation: Any, dynamodb: Any, sqs: Any, stack_name: str) -> list[Finding]:
    """A first deployment has nothing here yet; a redeployment's table and queues must be healthy,
    and a dead-letter queue that holds messages holds replies never stored."""
    try:
        [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        # CloudFormation tells a missing stack only in words: a ValidationError "... does not exist".
        if "does not exist" in str(error.response.get("Error", {}).get("Message", "")):
            detail = f"no stack {stack_name!r} yet: the first deployment creates the table and queues"
            return [Finding("stack", OK, detail)]
        return [Finding("stack", WARN, f"could not read {stack_name!r}: {error}")]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    findings = [Finding("stack", OK, f"{stack_name}: {stack['StackStatus']}")]
    if stack["StackStatus"].endswith(("_FAILED", "ROLLBACK_COMPLETE")):
        findings[0] = Finding("stack", WARN, f"{stack_name}: {stack['StackStatus']}: read its events first")
    if "SessionTableName" in outputs:
        findings.append(_table(dynamodb, outputs["SessionTableName"]))
    for key, name in (("RetryQueueUrl", "retry queue"), ("RetryDeadLetterQueueUrl", "dead-letter queue")):
        if key in outputs:
            findings.append(_queue(sqs, outputs[key], name))
    return findings


def _table(dynamodb: Any, name: str) -> Finding:
    try:
        table = dynamodb.describe_table(TableName=name)["Table"]
    except ClientError as error:
        return Finding("table", FAIL, f"{name}: {error.response.get('Error', {}).get('Code')}")
    stream = table.get("StreamSpecification", {})
    if table.get("TableStatus") != "ACTIVE":
        return Finding("table", WARN, f"{name}: {table.get('TableStatus')}")
    if not stream.get("StreamEnabled") or stream.get("StreamViewType") != "NEW_AND_OLD_IMAGES":
        return Finding("table", FAIL, f"{name}: its stream is not NEW_AND_OLD_IMAGES; summaries would stop")
    return Finding("table", OK, f"{name}: ACTIVE, {table.get('ItemCount', '?')} items, stream on")


def _queue(sqs: Any, url: str, name: str) -> Finding:
    try:
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
    except ClientError as error:
        return Finding(name, FAIL, f"{url}: {error.response.get('Error', {}).get('Code')}")
    waiting = int(attributes.get("ApproximateNumberOfMessages", 0))
    in_flight = int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0))
    if name == "dead-letter queue" and waiting:
        detail = f"{waiting} replies were never stored: `manga-assist redrive --dlq-url {url}`"
        return Finding(name, WARN, detail)
    return Finding(name, OK, f"{waiting} waiting, {in_flight} in flight")
