"""Two senders in one session at once (two concurrent invocations for one connection, as API Gateway
may run them), and the customer resuming the session from a second connection midway: every
accepted message is stored exactly once, in one consistent order, each sender's order kept, each
reply right after its question, ``turn_count`` exact; the old connection's frames get 403 and write
nothing. Against DynamoDB on a moto server over HTTP, and on the in-memory store with many threads."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator

import pytest

from adapters.dynamodb.client import dynamodb_client
from adapters.dynamodb.table import create_table
from entrypoints.container import Container, build_container
from testing.aws import REGION, LocalMotoServer
from testing.harness import TEST_LIMITS
from tests.adversarial.crowd import Crowd, Sender, run_all
from tests.adversarial.customer import replies_follow_questions
from tests.adversarial.ledger import LEDGER
from tests.adversarial.oracle import snapshot, tally
from tests.adversarial.systems import fresh_id

TABLE = "manga-assist-adversarial-crowd"
CUSTOMER = "cust-crowd"


@pytest.fixture(autouse=True)
def _eager_thread_switches() -> Iterator[None]:
    """Switch threads every 10 µs instead of 5 ms: far more interleavings per run."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


@pytest.fixture(scope="module")
def moto_server() -> Iterator[LocalMotoServer]:
    server = LocalMotoServer(delay=0.002)  # parallel requests overlap their latency, as on a network
    server.start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
                patch.setenv(name, "testing")
            create_table(dynamodb_client(region=REGION, endpoint_url=server.url), TABLE)
        yield server
    finally:
        server.stop()


def check_conversation(
    crowd: Crowd, session_id: str, senders: list[Sender], target: str, sent: int | None = None
) -> None:
    repo = crowd.container_for("main").adapters.repository()
    after = snapshot(repo, session_id)
    expected = [m for sender in senders for m in sender.message_ids]
    result = tally(after.turns, expected)
    LEDGER.input(target, sent or len(expected))
    LEDGER.fault("concurrency", target, result.lost, result.duplicated, messages=len(expected))
    assert (result.lost, result.duplicated) == (0, 0), result.details
    assert after.turn_count == len(after.turns) == 2 * len(expected)
    assert [t.turn_id for t in after.turns] == sorted(t.turn_id for t in after.turns)
    replies_follow_questions(after.turns)
    for sender in senders:
        mine = [t.message_id for t in after.turns if t.role == "user" and t.message_id in sender.statuses]
        assert mine == sender.message_ids, f"{sender.name}'s messages out of order"
        for message_id in sender.message_ids:
            asked = [
                p for p in crowd.llm.prompts if p.messages[-1].text.endswith(sender.question(message_id))
            ]
            assert len(asked) == 1, f"{message_id} was put to the model {len(asked)} times"


def race_with_a_resume(crowd: Crowd, senders_per_connection: int, messages: int, target: str) -> None:
    """``senders_per_connection`` threads send ``messages`` each into one session; midway, the customer
    resumes the session from a second connection; the senders follow it there when refused."""
    first, second = fresh_id("crowd-one"), fresh_id("crowd-two")
    assert crowd.as_("main").connect(first, CUSTOMER) == 200
    session_id = crowd.container_for("main").adapters.repository().session_id_of_connection(first)
    resumed, moved_to = threading.Event(), list[str]()
    senders = [
        Sender(
            crowd,
            f"sender-{n}",
            [f"s{n}-{i:02d}" for i in range(messages)],
            first,
            moved_to,
            pause_after=messages // 2,
            resumed=resumed,
        )
        for n in range(senders_per_connection)
    ]

    def resume_midway() -> None:
        while min(s.sent for s in senders) < messages // 3 and not any(s.error for s in senders):
            time.sleep(0.005)
        crowd.as_("main")
        assert crowd.connect(second, CUSTOMER, session_id) == 200
        moved_to.append(second)
        resumed.set()

    run_all(senders, resume_midway)

    for sender in senders:  # each sent on the old connection after the resume, and was refused
        refused = [(c, s) for tries in sender.statuses.values() for c, s in tries if s == 403]
        assert refused and {c for c, _ in refused} == {first}, sender.statuses
    late = fresh_id("late")
    assert crowd.send(first, {"action": "sendMessage", "message": "still there?", "message_id": late}) == 403
    assert crowd.send(first, {"action": "history"}) == 403
    assert all(late not in str(f) for f in crowd.notifier.of(first))
    check_conversation(crowd, session_id, senders, target)
    assert crowd.container_for("main").adapters.repository().get(session_id).connection_id == second


@pytest.mark.moto_server
def test_two_invocations_at_once_and_a_resume_on_dynamodb_over_http(
    moto_server: LocalMotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_server.url)
    crowd = Crowd(lambda name: processes[name])
    processes: dict[str, Container] = {
        name: crowd.prepare(
            build_container({**TEST_LIMITS, "SESSION_STORE": "dynamodb", "SESSION_TABLE": TABLE})
        )
        for name in ("main", "sender-0", "sender-1")
    }
    crowd.install(monkeypatch)
    try:
        race_with_a_resume(crowd, 2, 25, "2 x 25 messages at once, DynamoDB over HTTP")
    finally:
        for container in processes.values():
            container.adapters.repository().close()


def test_many_threads_and_a_resume_on_the_memory_store(monkeypatch: pytest.MonkeyPatch) -> None:
    crowd = Crowd(lambda _name: container)
    container = crowd.prepare(build_container(dict(TEST_LIMITS)))
    crowd.install(monkeypatch)
    race_with_a_resume(crowd, 8, 25, "8 x 25 messages at once, memory store")


def test_the_same_message_ids_racing_each_other_on_the_memory_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """Six threads send the same 20 message ids at once: each id is stored and answered once."""
    crowd = Crowd(lambda _name: container)
    container = crowd.prepare(build_container(dict(TEST_LIMITS)))
    crowd.install(monkeypatch)
    connection = fresh_id("twins")
    assert crowd.as_("main").connect(connection, CUSTOMER) == 200
    session_id = container.adapters.repository().session_id_of_connection(connection)
    ids = [f"twin-{i:02d}" for i in range(20)]
    senders = [Sender(crowd, f"twin-{n}", ids, connection) for n in range(6)]

    run_all(senders, lambda: None)

    target = "6 threads x the same 20 message ids, memory store"
    check_conversation(crowd, session_id, senders[:1], target, sent=6 * len(ids))
    outcomes = {status for sender in senders for tries in sender.statuses.values() for _, status in tries}
    assert outcomes <= {200, 409}, outcomes
