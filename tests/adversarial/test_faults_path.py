"""The rest of the message path failing: the model (before its first delta, in the middle of its
stream, at its end), the push to the client (GoneException, Management API throttled, a bug), and the
process dying at each point between the user turn's write and the reply reaching the client. The
customer retries the same message id; nothing is lost or duplicated, the model answers each message
once unless an attempt failed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dependency_injector import providers

from application.errors import ConnectionGone, ModelFailed, ModelUnavailable, Unavailable
from application.ports import NewMessage
from domain.model import Role, Turn
from tests.adversarial.customer import audit
from tests.adversarial.faults import ProcessDied
from tests.adversarial.rig import Rig, rigged

MODEL_ERRORS = [ModelUnavailable, ModelFailed, RuntimeError, ProcessDied]
PUSH_ERRORS = [ConnectionGone, Unavailable, RuntimeError, ProcessDied]
LONG_REPLY = 400  # words: a dozen chunks before the message frame


def die_without_cleanup(rig: Rig, error: type[BaseException]) -> None:
    """A dead process runs no ``finally``: the lease it held is not given back."""
    if error is ProcessDied:
        rig.repo.fail("release_message", 1, RuntimeError("the process is gone"))


@pytest.mark.parametrize(
    "after_deltas", [0, 3, 10_000], ids=["before the stream", "mid-stream", "at its end"]
)
@pytest.mark.parametrize("error", MODEL_ERRORS, ids=[e.__name__ for e in MODEL_ERRORS])
def test_the_model_failing(error: type[BaseException], after_deltas: int) -> None:
    with rigged() as rig:
        customer = rig.customer()
        rig.llm.fail_next(error("injected"), after_deltas=after_deltas)  # type: ignore[arg-type]
        die_without_cleanup(rig, error)

        customer.ask("m-1")

        assert customer.model_calls("m-1") == 2
        audit(customer, "model", f"{error.__name__} {after_deltas} deltas in", rig.queue)


@pytest.mark.parametrize(
    ("accept", "kind"),
    [(0, None), (1, None), (3, None), (0, "message")],
    ids=["chunk 0", "chunk 1", "chunk 3", "reply"],
)
@pytest.mark.parametrize("error", PUSH_ERRORS, ids=[e.__name__ for e in PUSH_ERRORS])
def test_the_push_failing(error: type[BaseException], accept: int, kind: str | None) -> None:
    with rigged(reply_words=LONG_REPLY) as rig:
        customer = rig.customer()
        rig.notifier.fail_after(customer.connection_id, accept, error(customer.connection_id), kind)
        die_without_cleanup(rig, error)

        customer.ask("m-1")
        # The client saw no whole reply: it asks again (from a new connection if its socket is gone).
        if not [f for f in rig.chat.frames(customer.connection_id, "message") if f["reply_to"] == "m-1"]:
            if rig.chat.repository.get(customer.session_id).connection_id != customer.connection_id:
                customer.reconnect()
            customer.ask("m-1")

        assert rig.notifier.fired == 1
        stored_before_failure = kind == "message" or error in (ConnectionGone, Unavailable)
        assert customer.model_calls("m-1") == (1 if stored_before_failure else 2)
        audit(customer, "push", f"{error.__name__} at {kind or 'chunk'} {accept}", rig.queue)


def test_the_process_dying_right_after_storing_the_user_turn() -> None:
    """The invocation stored the question, holds the lease, and dies before calling the model."""
    with rigged() as rig:
        customer = rig.customer()
        repo, now = rig.chat.repository, rig.clock.now()
        question = Turn("0" * 19 + "-dead", Role.USER, "Question m-1: where is my order?", 8, now, "m-1")
        message = NewMessage(
            customer.session_id,
            customer.connection_id,
            question,
            repo.get(customer.session_id).status,
            now=now,
            lease_until=now + timedelta(seconds=45),
            expires_at=now + timedelta(days=1),
        )
        repo.record_message(message, context_turns=20)

        statuses = customer.ask("m-1", question.content)

        assert statuses == [409, 200]  # the lease of the dead invocation is waited out, once
        assert customer.model_calls("m-1") == 1
        audit(customer, "process death", "after the user turn was stored, before the model", rig.queue)


def test_the_process_dying_while_the_reply_write_failed() -> None:
    """The reply could not be stored, and the process died before handing it to the retry queue."""
    with rigged() as rig:
        customer = rig.customer()
        rig.repo.fail("complete_exchange", 1, Unavailable("injected"))
        assert rig.queue is not None
        rig.chat.container.adapters.retry_queue.override(providers.Object(_DyingQueue()))

        customer.ask("m-1")

        assert customer.statuses["m-1"][0] == 0 and customer.model_calls("m-1") == 2
        audit(customer, "process death", "after the reply write failed, before it was queued", rig.queue)


class _DyingQueue:
    def enqueue(self, _write: object) -> None:
        raise ProcessDied("killed while enqueueing")
