"""Drives the real Lambda handlers with API-Gateway-shaped events, as API Gateway would, and reads
what they pushed. Shared by the unit, handler and acceptance tests."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

from dependency_injector import providers

from entrypoints import connect, disconnect, message
from entrypoints.container import Container, build_container, set_container
from entrypoints.inprocess import InProcessWorkers
from testing.model import RecordingModel
from testing.notifier import RecordingNotifier

EVENTS = Path(__file__).parent / "events"
_counter = itertools.count(1)


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def connect_event(
    connection_id: str,
    customer_id: str | None = None,
    session_id: str | None = None,
    authorizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    event = load_event("ws_connect.json")
    query = {k: v for k, v in {"customer_id": customer_id, "session_id": session_id}.items() if v}
    event["queryStringParameters"] = query or None
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} or None
    event["requestContext"]["connectionId"] = connection_id
    if authorizer is not None:
        event["requestContext"]["authorizer"] = authorizer
    return event


def agent_authorizer(agent_id: str) -> dict[str, Any]:
    """What API Gateway puts in ``requestContext.authorizer`` of every event of an agent's connection."""
    return {"principalId": agent_id, "customer_id": agent_id, "role": "agent"}


def message_event(
    connection_id: str,
    body: Any,
    request_message_id: str | None = None,
    authorizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    event = load_event("ws_message.json")
    event["body"] = body if isinstance(body, str) or body is None else json.dumps(body)
    event["requestContext"]["connectionId"] = connection_id
    event["requestContext"]["messageId"] = request_message_id or f"apigw-msg-{next(_counter)}="
    if authorizer is not None:
        event["requestContext"]["authorizer"] = authorizer
    return event


def sqs_record(message_id: str, body: str, receive_count: int = 1) -> dict[str, Any]:
    """One record of an SQS event, as Lambda's event source mapping delivers it."""
    record: dict[str, Any] = load_event("sqs_retry_batch.json")["Records"][0]
    record.update(messageId=message_id, body=body)
    record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    return record


def disconnect_event(connection_id: str, authorizer: dict[str, Any] | None = None) -> dict[str, Any]:
    event = load_event("ws_disconnect.json")
    event["requestContext"]["connectionId"] = connection_id
    if authorizer is not None:
        event["requestContext"]["authorizer"] = authorizer
    return event


# Tests of other things send far more than 20 messages a minute at a clock that stands still: the
# rate is off for them, and the customer's budget on but out of reach, so that every test still goes
# through a check and a charge of the limits. Tests of the limits set their own.
TEST_LIMITS = {"CUSTOMER_MESSAGES_PER_MINUTE": "0", "CUSTOMER_DAILY_TOKENS": str(10**12)}


class Chat:
    """One process's worth of the system: a container, a recording notifier, a fake model.
    ``asynchronous=False`` leaves the asynchronous half out (no stream reader, no in-process
    workers): for a benchmark that times the request path on a table without Streams."""

    def __init__(
        self,
        container: Container | None = None,
        env: dict[str, str] | None = None,
        llm: RecordingModel | None = None,
        clock: Any = None,
        asynchronous: bool = True,
    ) -> None:
        self.container = container or build_container({**TEST_LIMITS, **(env or {})})
        self.notifier = RecordingNotifier()
        self.llm = llm or RecordingModel()
        self.container.adapters.notifier.override(providers.Object(self.notifier))
        self.container.adapters.llm.override(providers.Object(self.llm))
        if clock is not None:
            self.container.adapters.clock.override(providers.Object(clock))
        set_container(self.container)
        self.statuses: list[int] = []
        # API Gateway repeats the context an authorizer gave $connect on every frame of the connection.
        self._authorizers: dict[str, dict[str, Any]] = {}
        self.auto_settle = True
        self.workers: Any = None
        if asynchronous and hasattr(self.repository, "listeners"):
            self.workers = InProcessWorkers(self.container, self.notifier)
        elif asynchronous and self.container.config.session_store() == "dynamodb":
            self.workers = self._stream_workers()

    def _stream_workers(self) -> Any:
        """On DynamoDB the asynchronous half reads the table's real stream, as Lambda would."""
        from entrypoints.local.streams import StreamWorkers

        config = self.container.config
        # The cleanup handler closes connections through the Management API: here, the recorder.
        config.set("websocket_callback_url", "http://management-api.local")
        streams = self.container.adapters.boto_session().client(
            "dynamodbstreams", region_name=config.region()
        )
        return StreamWorkers(
            self.container.adapters.dynamodb_client(),
            streams,
            config.session_table(),
            config.region(),
            self.container.adapters.clock(),
        )

    def settle(self) -> None:
        """Let the asynchronous half catch up (in Lambda: Streams and SQS deliveries), unless a test
        holds it back (``auto_settle = False``) to deliver by hand."""
        if self.workers is not None and self.auto_settle:
            self.workers.drain()

    @property
    def repository(self) -> Any:
        return self.container.adapters.repository()

    def connect(
        self, connection_id: str, customer_id: str | None = None, session_id: str | None = None, **kwargs: Any
    ) -> int:
        event = connect_event(connection_id, customer_id, session_id, **kwargs)
        code = int(connect.handler(event, None)["statusCode"])
        self.statuses.append(code)
        if code == 200 and kwargs.get("authorizer") is not None:
            self._authorizers[connection_id] = kwargs["authorizer"]
        self.settle()
        return code

    def send(
        self,
        connection_id: str,
        body: Any,
        request_message_id: str | None = None,
        authorizer: dict[str, Any] | None = None,
    ) -> int:
        event = message_event(connection_id, body, request_message_id, authorizer)
        if authorizer is None and connection_id in self._authorizers:
            event["requestContext"]["authorizer"] = self._authorizers[connection_id]
        code = int(message.handler(copy.deepcopy(event), None)["statusCode"])
        self.statuses.append(code)
        self.settle()
        return code

    def say(self, connection_id: str, text: str, message_id: str | None = None, **fields: Any) -> int:
        body = {"action": "sendMessage", "message": text, **fields}
        if message_id is not None:
            body["message_id"] = message_id
        return self.send(connection_id, body)

    def disconnect(self, connection_id: str, authorizer: dict[str, Any] | None = None) -> int:
        code = disconnect.handler(disconnect_event(connection_id, authorizer), None)["statusCode"]
        self.settle()
        return int(code)

    def session_of(self, connection_id: str) -> dict[str, Any]:
        self.send(connection_id, {"action": "session"})
        return self.frames(connection_id, "session")[-1]

    def frames(self, connection_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        return self.notifier.of(connection_id, kind)

    def last(self, connection_id: str) -> dict[str, Any]:
        return self.notifier.of(connection_id)[-1]

    def close(self) -> None:
        self.container.adapters.notifier.reset_override()
        self.container.adapters.llm.reset_override()
        self.container.adapters.clock.reset_override()
        set_container(None)
