"""Wiring: adapters in one container, use cases in another, joined by ``Container``.

One container per process, built on the first invocation (never at import, which does no network
I/O), so that in ``memory`` mode every handler of the process shares one store. Clients and stores
are ``Singleton``; use cases are ``Factory``, resolved per invocation.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

import boto3
from dependency_injector import containers, providers

from adapters.apigateway import ApiGatewayNotifier, ManagementApiClients, NoManagementApi
from adapters.fake_llm import FakeLanguageModel
from adapters.memory import InMemorySessionRepository
from adapters.memory_retry_queue import InMemoryRetryQueue
from adapters.system import RandomIds, SystemClock
from adapters.tokens import CalibratedTokenCounter
from application.agents import (
    AgentReply,
    ClaimHandoff,
    ConnectConsole,
    DisconnectConsole,
    ReleaseHandoff,
    ShowQueue,
    TransferHandoff,
)
from application.expiry import ExpireSession
from application.handoff import ForwardToAgent, NotifyUnclaimed, StartHandoff
from application.messagebus import H, MessageBus
from application.ports import Clock, Notifier, RetryQueue, Telemetry
from application.replay import ReplayWrite
from application.send_message import SendMessage
from application.sessions import (
    ConnectionSessions,
    DescribeSession,
    DetachClient,
    Disconnect,
    GetHistory,
    OpenSession,
)
from application.settings import DEFAULT_SYSTEM_PROMPT, ConversationSettings
from application.summaries import RollSummary, SummarizeWhenDue
from application.timeline import SessionTimeline
from domain.limits import LimitPolicy
from entrypoints.cold_start import freeze_imports
from entrypoints.settings import load_settings

if TYPE_CHECKING:  # the adapters below are imported only by the providers that make them
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

    from adapters.bedrock import BedrockLanguageModel
    from adapters.dynamodb.repository import DynamoDBSessionRepository
    from adapters.guest_passes import SignedGuestPasses
    from adapters.telemetry import PowertoolsTelemetry

log = logging.getLogger(__name__)


def conversation_settings(config: dict[str, Any]) -> ConversationSettings:
    return ConversationSettings(
        max_message_chars=config["max_message_chars"],
        session_ttl=timedelta(seconds=config["session_ttl_seconds"]),
        max_context_turns=config["max_context_turns"],
        max_context_tokens=config["max_context_tokens"],
        system_prompt=config["system_prompt"] or DEFAULT_SYSTEM_PROMPT,
        limits=LimitPolicy(
            messages_per_minute=config["customer_messages_per_minute"],
            customer_daily_tokens=config["customer_daily_tokens"],
            daily_tokens=config["daily_tokens"],
        ),
        handoff_unclaimed_after=timedelta(seconds=config["handoff_unclaimed_seconds"]),
    )


# The DynamoDB and SQS adapters are imported inside their providers: memory mode never loads them
# (nor cattrs), which keeps its cold start short. boto3 resolves AWS_ENDPOINT_URL(_DYNAMODB/_SQS) itself.
def _dynamodb_client(session: boto3.session.Session, region: str, telemetry: Telemetry) -> DynamoDBClient:
    from adapters.dynamodb.client import dynamodb_client
    from adapters.dynamodb.observer import observe

    return observe(dynamodb_client(session, region), telemetry)


def _dynamodb_repository(client: DynamoDBClient, table_name: str) -> DynamoDBSessionRepository:
    from adapters.dynamodb.repository import DynamoDBSessionRepository

    return DynamoDBSessionRepository(table_name, client)


def _sqs_client(session: boto3.session.Session, region: str) -> SQSClient:
    from adapters.sqs_retry_queue import sqs_client

    return sqs_client(session, region)


def _retry_queue(
    session_store: str, queue_url: str | None, sqs: Callable[[], SQSClient]
) -> RetryQueue | None:
    """SQS when ``RETRY_QUEUE_URL`` is set; the in-process queue in memory mode; else none, and a
    reply the table refuses then fails loudly (``WriteNotDurable``) instead of being dropped."""
    if queue_url:
        from adapters.sqs_retry_queue import SqsRetryQueue

        return SqsRetryQueue(queue_url, client_factory=sqs)
    return InMemoryRetryQueue() if session_store == "memory" else None


def _bedrock_model(
    session_factory: Callable[[], boto3.session.Session],
    region: str,
    model_id: str,
    max_tokens: int,
    temperature: float,
) -> BedrockLanguageModel:
    # Imported here so that the fake-model mode never loads the Bedrock adapter.
    from adapters.bedrock import BedrockLanguageModel, bedrock_runtime_client

    return BedrockLanguageModel(
        model_id=model_id,
        max_tokens=max_tokens,
        temperature=temperature,
        client_factory=lambda config: bedrock_runtime_client(session_factory(), region, config),
    )


def _powertools_telemetry() -> PowertoolsTelemetry:
    from adapters.telemetry import PowertoolsTelemetry
    from entrypoints.lambda_logging import METRICS_LOCK, metrics

    return PowertoolsTelemetry(metrics, METRICS_LOCK)


def _guest_passes(configured: str | None, clock: Clock) -> SignedGuestPasses:
    from adapters.guest_passes import SignedGuestPasses, process_secret

    return SignedGuestPasses(configured.encode("utf-8") if configured else process_secret(), clock)


def _notifier_for(management_api: ManagementApiClients, endpoint: str) -> ApiGatewayNotifier:
    return management_api.notifier(endpoint)


class Adapters(containers.DeclarativeContainer):
    config = providers.Configuration()

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(RandomIds)
    token_counter = providers.Singleton(CalibratedTokenCounter)
    telemetry = providers.Singleton(_powertools_telemetry)
    boto_session = providers.Singleton(boto3.session.Session)

    memory_repository = providers.Singleton(InMemorySessionRepository)
    dynamodb_client = providers.Singleton(
        _dynamodb_client, session=boto_session, region=config.region, telemetry=telemetry
    )
    dynamodb_repository = providers.Singleton(
        _dynamodb_repository, client=dynamodb_client, table_name=config.session_table
    )
    repository = providers.Selector(
        config.session_store, memory=memory_repository, dynamodb=dynamodb_repository
    )
    sqs_client = providers.Singleton(_sqs_client, session=boto_session, region=config.region)
    retry_queue = providers.Singleton(
        _retry_queue,
        session_store=config.session_store,
        queue_url=config.retry_queue_url,
        sqs=sqs_client.provider,
    )

    fake_llm = providers.Singleton(
        FakeLanguageModel,
        first_token_ms=config.fake_llm_first_token_ms,
        tokens_per_second=config.fake_llm_tokens_per_second,
    )
    bedrock_llm = providers.Singleton(
        _bedrock_model,
        session_factory=boto_session.provider,
        region=config.region,
        model_id=config.model_id,
        max_tokens=config.llm_max_tokens,
        temperature=config.llm_temperature,
    )
    llm = providers.Selector(config.llm_provider, fake=fake_llm, bedrock=bedrock_llm)

    management_api = providers.Singleton(
        ManagementApiClients, session_factory=boto_session.provider, region=config.region
    )
    # Signs guests' resume tokens (AUTH_MODE=guest), which the authorizer reads back.
    guest_passes = providers.Singleton(_guest_passes, configured=config.auth_guest_secret, clock=clock)
    # Called with ``endpoint=``: the callback URL comes from configuration or from the event.
    notifier = providers.Factory(_notifier_for, management_api=management_api)


class UseCases(containers.DeclarativeContainer):
    """Use cases as ``Factory``, resolved per invocation. Those that push are given ``notifier=`` per
    invocation (its endpoint may come from the event); ``SendMessage`` is also given ``events=``
    (``message_bus``)."""

    config = providers.Configuration()
    adapters = providers.DependenciesContainer()

    settings = providers.Singleton(conversation_settings, config)
    connection_sessions = providers.Factory(
        ConnectionSessions, repo=adapters.repository, clock=adapters.clock
    )
    open_session = providers.Factory(
        OpenSession, repo=adapters.repository, clock=adapters.clock, ids=adapters.ids, settings=settings
    )
    describe_session = providers.Factory(DescribeSession, sessions=connection_sessions)
    get_history = providers.Factory(
        GetHistory, repo=adapters.repository, sessions=connection_sessions, settings=settings
    )
    detach_client = providers.Factory(
        DetachClient, repo=adapters.repository, clock=adapters.clock, settings=settings
    )
    disconnect = providers.Factory(Disconnect, repo=adapters.repository, detach=detach_client)
    send_message = providers.Factory(
        SendMessage,
        sessions=adapters.repository,
        messages=adapters.repository,
        llm=adapters.llm,
        counter=adapters.token_counter,
        clock=adapters.clock,
        ids=adapters.ids,
        settings=settings,
        retry_queue=adapters.retry_queue,
        telemetry=adapters.telemetry,
    )
    session_timeline = providers.Factory(
        SessionTimeline, sessions=adapters.repository, reads=adapters.repository, clock=adapters.clock
    )
    # The handlers of the event table (application.messagebus.HANDLERS).
    roll_summary = providers.Factory(
        RollSummary,
        repo=adapters.repository,
        llm=adapters.llm,
        counter=adapters.token_counter,
        clock=adapters.clock,
        every_turns=config.summary_every_turns,
        max_prompt_tokens=config.max_context_tokens,
    )
    summarize_when_due = providers.Factory(
        SummarizeWhenDue, roll=roll_summary, every_turns=config.summary_every_turns
    )
    replay_write = providers.Factory(ReplayWrite, repo=adapters.repository, telemetry=adapters.telemetry)
    expire_session = providers.Factory(ExpireSession, repo=adapters.repository)
    forward_to_agent = providers.Factory(ForwardToAgent, repo=adapters.repository, desk=adapters.repository)
    # Handoffs, both sides; ``notifier`` per invocation, like the rest.
    _agent_kwargs = dict(
        repo=adapters.repository,
        reads=adapters.repository,
        summaries=adapters.repository,
        desk=adapters.repository,
        clock=adapters.clock,
        ids=adapters.ids,
        counter=adapters.token_counter,
        settings=settings,
        telemetry=adapters.telemetry,
    )
    connect_console = providers.Factory(ConnectConsole, desk=adapters.repository, clock=adapters.clock)
    disconnect_console = providers.Factory(DisconnectConsole, desk=adapters.repository)
    show_queue = providers.Factory(ShowQueue, **_agent_kwargs)
    claim_handoff = providers.Factory(ClaimHandoff, **_agent_kwargs)
    transfer_handoff = providers.Factory(TransferHandoff, **_agent_kwargs)
    release_handoff = providers.Factory(ReleaseHandoff, **_agent_kwargs)
    agent_reply = providers.Factory(AgentReply, **_agent_kwargs)
    start_handoff = providers.Factory(StartHandoff, **_agent_kwargs)
    notify_unclaimed = providers.Factory(
        NotifyUnclaimed,
        repo=adapters.repository,
        desk=adapters.repository,
        clock=adapters.clock,
        settings=settings,
        telemetry=adapters.telemetry,
    )


class Container(containers.DeclarativeContainer):
    config = providers.Configuration(strict=True)
    adapters = providers.Container(Adapters, config=config)
    use_cases = providers.Container(UseCases, config=config, adapters=adapters)


def message_bus(container: Container, notifier: Notifier | None = None) -> MessageBus:
    """The event table (``application.messagebus.HANDLERS``) for one invocation: each handler is
    made, when its event comes, by the ``UseCases`` provider of its class; one that pushes is given
    ``notifier`` (by default: ``background_notifier``, for work no client request started)."""
    made_by: dict[type, Any] = {}

    def build(handler: type[H]) -> H:
        nonlocal notifier
        if not made_by:
            made_by.update((p.cls, p) for p in container.use_cases.traverse(types=[providers.Factory]))
        if not _pushes(handler):
            return cast(H, made_by[handler]())
        if notifier is None:
            notifier = background_notifier(container)
        return cast(H, made_by[handler](notifier=notifier))

    return MessageBus(build)


def background_notifier(container: Container) -> Notifier:
    """Pushes for work no client request started (streams, queues): through the configured callback
    endpoint; with none configured, connections are left alone, and that is said."""
    callback = container.config.websocket_callback_url()
    if callback:
        notifier: Notifier = container.adapters.notifier(endpoint=callback)
        return notifier
    log.warning("WEBSOCKET_CALLBACK_URL is not set: expired sessions' connections stay open")
    return NoManagementApi()


def _pushes(handler: Callable[..., object]) -> bool:
    return "notifier" in inspect.signature(handler).parameters


_lock = threading.Lock()
_container: Container | None = None


def build_container(env: dict[str, str] | None = None) -> Container:
    container = Container()
    container.config.from_dict(load_settings(env))
    return container


def get_container() -> Container:
    """The process's container, built on first use."""
    global _container
    if _container is None:
        with _lock:
            if _container is None:
                _container = build_container()
    return _container


def set_container(container: Container | None) -> None:
    """Install a container (tests, the local server); ``None`` makes the next call build a fresh one."""
    global _container
    with _lock:
        _container = container


freeze_imports()  # the last line: see entrypoints/cold_start.py
