"""``sendMessage``: store the customer's message once, answer it once, stream the answer."""

from __future__ import annotations

import logging

from attrs import evolve, frozen

from application import telemetry as metric
from application.deadline import CUT_SHORT_MARK, BoundedNotifier, Deadline, DeadlineReached, until
from application.errors import (
    ConnectionGone,
    MessageInProgress,
    ModelFailed,
    ModelUnavailable,
    Unavailable,
    WriteNotDurable,
)
from application.events import ClientGone, MessageForwarded
from application.frame_size import text_cost
from application.frames import forwarded_frame, message_frames
from application.limits import MessageLimits, charged_tokens
from application.ports import (
    Clock,
    Delta,
    EventPublisher,
    IdGenerator,
    LanguageModel,
    MessageLog,
    MessageRecord,
    NewMessage,
    Notifier,
    PendingWrite,
    RecordedMessage,
    RetryQueue,
    SessionStore,
    Telemetry,
    TokenCounter,
    Usage,
)
from application.prompt import PromptBuilder
from application.sessions import ConnectionSessions
from application.settings import ConversationSettings
from application.streaming import ChunkStream
from application.telemetry import NoTelemetry
from domain.errors import InvalidInput, LimitReached, MessageTooLarge, UnexpectedStatus
from domain.limits import Charge, LimitCheck
from domain.model import Role, SessionStatus, Turn

log = logging.getLogger(__name__)

MAX_MESSAGE_ID_CHARS = 128


@frozen
class SendMessageCommand:
    connection_id: str
    message: str
    message_id: str
    session_id: str | None = None
    answer_by: Deadline | None = None  # stop the model's stream then, to store the reply in time
    customer_id: str | None = None  # the authorizer's (never the client's word): whose limits bind


@frozen
class SendOutcome:
    """What happened, for the handler's logs and metrics (never message content)."""

    session_id: str
    message_id: str
    replayed: bool = False  # the reply was already stored: sent again, no model call
    answered: bool = False  # the model was called and its reply stored (or queued)
    queued: bool = False  # the reply's write went to the retry queue
    forwarded: bool = False  # the session is with a human agent: no model call
    client_gone: bool = False
    undelivered: bool = False  # stored, but the Management API kept failing: shown on resume
    cut_short: bool = False  # the deadline came first: what was written is stored, marked
    chunks: int = 0


class SendMessage:
    def __init__(
        self,
        sessions: SessionStore,
        messages: MessageLog,
        llm: LanguageModel,
        notifier: Notifier,
        counter: TokenCounter,
        clock: Clock,
        ids: IdGenerator,
        settings: ConversationSettings,
        events: EventPublisher,
        retry_queue: RetryQueue | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self._messages = messages
        self._llm = llm
        self._notifier = notifier
        self._counter = counter
        self._clock = clock
        self._ids = ids
        self._settings = settings
        self._retry_queue = retry_queue
        self._connections = ConnectionSessions(sessions, clock)
        self._limits = MessageLimits(sessions, settings.limits, telemetry or NoTelemetry())
        self._prompts = PromptBuilder(
            counter, settings.system_prompt, settings.max_context_tokens, settings.max_context_turns
        )
        self._events = events
        self._telemetry = telemetry or NoTelemetry()

    def __call__(self, command: SendMessageCommand) -> SendOutcome:
        text = self._validate(command)
        session_id = self._connections.session_id(command.connection_id, command.session_id)
        now = self._clock.now()
        turn = Turn(
            turn_id=self._ids.turn_id(now),
            role=Role.USER,
            content=text,
            token_count=self._counter.count(text),
            created_at=now,
            message_id=command.message_id,
        )
        customer = self._limits.customer(session_id, command.customer_id)
        recorded, status, check = self._record(session_id, command.connection_id, turn, customer)
        outcome = SendOutcome(session_id=session_id, message_id=command.message_id)
        self._telemetry.count(metric.MESSAGES_RECEIVED)

        # A stored reply is served whatever the session's state since: the bot answered this message id
        # before a handoff, so a repeat during it is not the agent's (nor acknowledged as forwarded).
        if recorded.existing is not None and recorded.existing.reply is not None:
            return self._replay(command.connection_id, recorded.existing.reply, outcome)
        if status is SessionStatus.HANDOFF:
            return self._forward(session_id, command.connection_id, turn, recorded, outcome)
        if recorded.existing is not None:
            stored = self._take_over(session_id, recorded.existing)
            if stored is not None:
                return self._replay(command.connection_id, stored, outcome)
            turn = Turn(
                turn_id=recorded.existing.user_turn_id,
                role=Role.USER,
                content=text,
                token_count=turn.token_count,
                created_at=now,
                message_id=command.message_id,
            )
        return self._answer(command, session_id, turn, recorded, outcome, check)

    def _replay(self, connection_id: str, stored: Turn, outcome: SendOutcome) -> SendOutcome:
        """A repeated message id whose reply is stored: that reply again, no model call."""
        try:
            for frame in message_frames(stored):
                self._notifier.push(connection_id, frame)
        except ConnectionGone:
            return evolve(outcome, replayed=True, client_gone=True)
        self._telemetry.count(metric.REPLIES_REPLAYED)
        return evolve(outcome, replayed=True)

    def _forward(
        self, session_id: str, connection_id: str, turn: Turn, recorded: RecordedMessage, outcome: SendOutcome
    ) -> SendOutcome:
        """With a human agent: stored, forwarded once, never answered by the model. The message id's
        lease is freed at once (nothing will answer it here); a repeat is a quiet success."""
        if recorded.existing is None:
            self._release(session_id, outcome.message_id, ends_turn=False)  # it never took the turn
            self._events.publish(MessageForwarded(session_id, turn))
            self._telemetry.count(metric.MESSAGES_FORWARDED)
        gone = False
        try:  # each message is acknowledged, a repeat as well: it is stored, and on its way
            self._notifier.push(connection_id, forwarded_frame(outcome.message_id))
        except ConnectionGone:
            gone = True
        return evolve(outcome, forwarded=True, replayed=recorded.existing is not None, client_gone=gone)

    def _validate(self, command: SendMessageCommand) -> str:
        if not isinstance(command.message, str):
            raise InvalidInput("message must be a string")
        text = command.message.strip()
        if not text:
            raise InvalidInput("message must not be empty")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput("message is not valid Unicode text") from None
        if len(text) > self._settings.max_message_chars:
            raise MessageTooLarge(f"message is longer than {self._settings.max_message_chars} characters")
        if text_cost(text) > self._settings.max_message_bytes:  # so that any frame echoing it fits 32 KB
            raise MessageTooLarge(
                f"message is longer than {self._settings.max_message_bytes} bytes in a frame"
            )
        if not command.message_id or len(command.message_id) > MAX_MESSAGE_ID_CHARS:
            raise InvalidInput(f"message_id must be 1 to {MAX_MESSAGE_ID_CHARS} characters")
        return text

    def _record(
        self, session_id: str, connection_id: str, turn: Turn, customer: str
    ) -> tuple[RecordedMessage, SessionStatus, LimitCheck]:
        """Store the user turn under the state the session is really in: the bot's, or an agent's,
        within the limits (an agent's session spends no tokens: only the rate binds there)."""
        status = SessionStatus.ACTIVE
        for _ in range(3):
            now = self._clock.now()
            calls_model = status is SessionStatus.ACTIVE
            check = self._limits.check(customer, now, calls_model)
            try:
                message = NewMessage(
                    session_id,
                    connection_id,
                    turn,
                    expected_status=status,
                    now=now,
                    lease_until=now + self._settings.answer_lease,
                    expires_at=now + self._settings.session_ttl,
                    limits=check if check.binds else None,
                    answering=calls_model,
                )
                recorded = self._messages.record_message(message, self._settings.max_context_turns)
            except LimitReached as refusal:
                self._limits.refused(refusal)
                raise
            except UnexpectedStatus as error:
                if (
                    error.actual not in (SessionStatus.ACTIVE, SessionStatus.HANDOFF)
                    or error.actual == status
                ):
                    raise
                status = SessionStatus(error.actual)
                continue
            self._limits.observe(recorded)
            return recorded, status, check
        raise MessageInProgress("the session changed state repeatedly; try again")

    def _take_over(self, session_id: str, record: MessageRecord) -> Turn | None:
        """A repeated message id: its stored reply, or the lease to answer it ourselves."""
        if record.reply is not None:
            return record.reply
        now = self._clock.now()
        if record.lease_until is not None and record.lease_until > now:
            raise MessageInProgress("this message is being answered")
        if self._messages.claim_message(
            session_id, record.message_id, now, now + self._settings.answer_lease
        ):
            return None
        again = self._messages.message_record(session_id, record.message_id)
        if again is not None and again.reply is not None:
            return again.reply
        raise MessageInProgress("this message is being answered")

    def _answer(
        self,
        command: SendMessageCommand,
        session_id: str,
        question: Turn,
        recorded: RecordedMessage,
        outcome: SendOutcome,
        check: LimitCheck,
    ) -> SendOutcome:
        prompt = self._prompts.build(recorded.context, question)
        response_id = self._ids.response_id()
        # Every push of this reply ends before the function may (a push past it is given up).
        notifier = BoundedNotifier(self._notifier, command.answer_by, self._clock)
        stream = ChunkStream(notifier, self._clock, command.connection_id, response_id)
        usage = Usage(None, None)
        started = self._clock.monotonic()
        first_token: float | None = None
        cut_short = False
        try:
            try:
                for event in until(self._llm.stream_reply(prompt), command.answer_by, self._clock):
                    if isinstance(event, Delta):
                        if first_token is None:
                            first_token = self._clock.monotonic() - started
                        stream.add(event.text)
                    else:
                        usage = event
            except DeadlineReached as reached:
                if not stream.text.strip():
                    raise ModelUnavailable("no reply before the deadline") from reached
                # What the customer already read is kept, and shown to end there.
                log.warning("the reply reached its deadline; stored cut short")
                self._telemetry.count(metric.REPLIES_CUT_SHORT)
                cut_short = True
            if not stream.text.strip():
                raise ModelFailed("the model returned an empty reply")
        except BaseException as error:
            # Nothing of this reply is stored; free the message id for the client's retry at once.
            self._telemetry.count(metric.MODEL_FAILURES, kind=type(error).__name__)
            self._release(session_id, command.message_id)
            raise
        self._record_model_use(started, first_token, usage)
        if usage.input_tokens:
            self._counter.observe(prompt.estimated_tokens, usage.input_tokens)

        reply = Turn(
            turn_id=question.reply_id(),
            role=Role.ASSISTANT,
            content=stream.text + (CUT_SHORT_MARK if cut_short else ""),
            token_count=usage.output_tokens or self._counter.count(stream.text),
            created_at=self._clock.now(),
            message_id=command.message_id,
            response_id=response_id,
        )
        charge = check.charge(charged_tokens(usage, prompt.estimated_tokens, reply.token_count))
        # Stored (or queued) before any further push: past the deadline only pushes are left, and each
        # gives up at the function's end (BoundedNotifier) rather than be ended mid-write.
        queued = self._store_reply(session_id, command.message_id, reply, charge)
        if cut_short:
            stream.add(CUT_SHORT_MARK)  # the chunks, too, add up to the stored reply
        stream.flush()
        gone, undelivered = stream.gone, False
        if not gone:
            try:
                for frame in message_frames(reply):
                    notifier.push(command.connection_id, frame)
            except ConnectionGone:
                gone = True
            except Exception:
                # Stored all the same: a resume or a retry of this message id shows it. Best effort:
                # the Management API kept failing, the function's end came, or the push itself broke.
                log.warning("the reply is stored but could not be pushed to the client", exc_info=True)
                self._telemetry.count(metric.REPLIES_UNDELIVERED)
                undelivered = True
        if gone:
            self._telemetry.count(metric.PUSHES_TO_GONE)
            self._events.publish(ClientGone(session_id, command.connection_id))
        elif not undelivered:
            self._telemetry.count(metric.REPLIES_SENT)
        return evolve(
            outcome,
            answered=True,
            queued=queued,
            client_gone=gone,
            undelivered=undelivered,
            cut_short=cut_short,
            chunks=stream.pushes,
        )

    def _record_model_use(self, started: float, first_token: float | None, usage: Usage) -> None:
        if first_token is not None:
            self._telemetry.milliseconds(metric.MODEL_FIRST_TOKEN_MS, first_token * 1000)
        self._telemetry.milliseconds(metric.MODEL_REPLY_MS, (self._clock.monotonic() - started) * 1000)
        if usage.input_tokens:
            self._telemetry.count(metric.TOKENS_IN, usage.input_tokens)
        if usage.output_tokens:
            self._telemetry.count(metric.TOKENS_OUT, usage.output_tokens)

    def _store_reply(self, session_id: str, message_id: str, reply: Turn, charge: Charge) -> bool:
        """Store the reply and charge its tokens, or hand both to the retry queue; True when queued.
        Never drops it."""
        expires_at = self._clock.now() + self._settings.session_ttl
        try:
            self._messages.complete_exchange(session_id, message_id, reply, expires_at, charge, live=True)
            return False
        except Unavailable as error:
            if self._retry_queue is None:
                self._release(session_id, message_id)
                raise WriteNotDurable(
                    "the reply could not be stored and no retry queue is configured"
                ) from error
            log.warning("reply write failed after retries; queued for the turn writer", exc_info=True)
            self._telemetry.count(metric.WRITES_QUEUED)
            self._end_turn(session_id, message_id)  # the reply is with the client: the next may come
        try:
            self._retry_queue.enqueue(
                PendingWrite("complete_exchange", session_id, message_id, reply, expires_at, charge)
            )
        except Unavailable as error:
            self._release(session_id, message_id)
            raise WriteNotDurable("the reply could neither be stored nor queued") from error
        return True

    def _release(self, session_id: str, message_id: str, ends_turn: bool = True) -> None:
        try:
            self._messages.release_message(session_id, message_id)
        except Exception:  # the lease then simply runs out; the original error matters more
            log.warning("could not release the lease of a failed message", exc_info=True)
        if ends_turn:
            self._end_turn(session_id, message_id)

    def _end_turn(self, session_id: str, message_id: str) -> None:
        try:
            self._messages.end_turn(session_id, message_id)
        except Exception:  # the session's turn then runs out with the lease
            log.warning("could not end the session's turn", exc_info=True)
