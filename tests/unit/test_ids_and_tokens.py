import threading

from adapters.system import RandomIds
from adapters.tokens import CalibratedTokenCounter
from testing.fakes import START


def test_turn_ids_made_in_one_instant_still_sort_in_the_order_they_were_made() -> None:
    ids = RandomIds()
    made = [ids.turn_id(START) for _ in range(1000)]
    assert made == sorted(made)
    assert len(set(made)) == 1000


def test_turn_ids_from_many_threads_never_collide() -> None:
    ids = RandomIds()
    made: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        mine = [ids.turn_id(START) for _ in range(500)]
        with lock:
            made.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(made)) == 2000


def test_two_processes_in_the_same_nanosecond_differ_by_their_random_part() -> None:
    assert RandomIds().turn_id(START) != RandomIds().turn_id(START)


def test_session_ids_are_random_uuids() -> None:
    ids = RandomIds()
    made = {ids.session_id() for _ in range(1000)}
    assert len(made) == 1000
    assert all(len(s) == 36 and s[14] == "4" for s in made)


def test_the_estimate_is_conservative_for_english_and_cjk() -> None:
    counter = CalibratedTokenCounter()
    english = "Is volume three of Frieren in stock at your store today?"
    assert counter.count(english) >= len(english) / 4  # Claude: ~4 characters a token
    assert counter.count("葬送のフリーレン") >= len("葬送のフリーレン")  # ~1 token a character


def test_calibration_follows_the_worst_ratio_with_a_margin() -> None:
    counter = CalibratedTokenCounter()
    counter.observe(estimated=1000, actual=700)
    assert counter.factor == 0.7 * 1.1
    tight = counter.count("x" * 3000)
    counter.observe(estimated=tight, actual=int(tight * 1.2))  # the model counted more: move up
    assert counter.count("x" * 3000) > tight * 1.2
    assert 0.5 <= counter.factor <= 3.0


def test_calibration_is_stable_when_the_model_agrees() -> None:
    counter = CalibratedTokenCounter()
    for _ in range(20):
        estimate = counter.count("y" * 900)
        counter.observe(estimate, int(estimate / counter.factor * 0.8))
    assert abs(counter.factor - 0.88) < 1e-9
