from application.frame_size import MAX_FRAME_BYTES, encode_frame
from application.streaming import ChunkStream
from testing.fakes import ManualClock
from testing.notifier import RecordingNotifier


def stream(clock: ManualClock, notifier: RecordingNotifier) -> ChunkStream:
    return ChunkStream(notifier, clock, "c1", "r1", flush_chars=200, flush_seconds=0.1)


def test_the_first_delta_leaves_at_once_and_later_ones_are_coalesced() -> None:
    clock, notifier = ManualClock(), RecordingNotifier()
    chunks = stream(clock, notifier)
    for _ in range(200):  # 200 tokens of 5 characters, all in one instant
        chunks.add("word ")
    chunks.flush()
    frames = notifier.of("c1", "chunk")
    assert frames[0]["delta"] == "word "
    assert len(frames) <= 1 + 1000 // 200 + 1
    assert "".join(f["delta"] for f in frames) == "word " * 200
    assert [f["index"] for f in frames] == list(range(len(frames)))


def test_a_slow_trickle_is_flushed_every_100_ms() -> None:
    clock, notifier = ManualClock(), RecordingNotifier()
    chunks = stream(clock, notifier)
    for _ in range(50):  # 50 tokens/s: one every 20 ms
        chunks.add("ab ")
        clock.advance(0.02)
    chunks.flush()
    pushes = len(notifier.of("c1", "chunk"))
    assert 8 <= pushes <= 12  # about one per 100 ms of a one-second reply, far fewer than 50


def test_a_huge_delta_is_split_below_the_frame_limit() -> None:
    clock, notifier = ManualClock(), RecordingNotifier()
    chunks = stream(clock, notifier)
    text = "漫" * (MAX_FRAME_BYTES // 3 * 2 + 5)  # 3 bytes each: two frames' worth and a bit
    chunks.add(text)
    chunks.flush()
    frames = notifier.of("c1", "chunk")
    assert len(frames) == 3 and all(len(encode_frame(f)) <= MAX_FRAME_BYTES for f in frames)
    assert [f["index"] for f in frames] == [0, 1, 2] and "".join(f["delta"] for f in frames) == text


def test_a_gone_client_stops_the_pushes_but_the_text_is_kept() -> None:
    clock, notifier = ManualClock(), RecordingNotifier()
    notifier.gone_after["c1"] = 1
    chunks = stream(clock, notifier)
    for n in range(100):
        chunks.add(f"t{n} ")
        clock.advance(0.2)
    chunks.flush()
    assert chunks.gone and notifier.pushes == 1
    assert chunks.text == "".join(f"t{n} " for n in range(100))
