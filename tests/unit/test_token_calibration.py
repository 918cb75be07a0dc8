"""The token estimator: conservative before any calibration, in every script, and moved by the
usage numbers the model returns in the right direction, by the right amount."""

from __future__ import annotations

import pytest

from adapters.tokens import (
    MAX_FACTOR,
    MIN_FACTOR,
    SAFETY_MARGIN,
    WINDOW,
    CalibratedTokenCounter,
    raw_estimate,
)

ENGLISH = "Hi! Is volume 3 of Frieren: Beyond Journey's End in stock, and can it ship to Osaka by Friday?"
JAPANESE = "葬送のフリーレンの第3巻は在庫がありますか？金曜日までに大阪へ届けてもらえますか。"  # noqa: RUF001 - real Japanese punctuation
EMOJI = "🍙📚✨🎌"


@pytest.mark.parametrize(
    ("text", "at_least"),
    [
        (ENGLISH, len(ENGLISH) / 3.5),  # Claude: ~3.5-4 characters of English a token
        (JAPANESE, len(JAPANESE) * 1.2),  # about a token a character, often more
        (EMOJI, len(EMOJI) * 1.5),
        ("Привет, есть ли у вас третий том?", 33 / 2.5),  # noqa: RUF001 - real Cyrillic
    ],
    ids=["english", "japanese", "emoji", "russian"],
)
def test_the_raw_estimate_is_conservative_in_every_script(text: str, at_least: float) -> None:
    assert CalibratedTokenCounter().count(text) >= at_least


def test_mixed_text_costs_what_its_parts_cost() -> None:
    assert raw_estimate(ENGLISH + JAPANESE) == pytest.approx(raw_estimate(ENGLISH) + raw_estimate(JAPANESE))
    assert (
        raw_estimate("🍙") == 2.0 and raw_estimate("漫") == 1.5 and raw_estimate("é") == pytest.approx(2 / 3)
    )


def test_counting_never_fails_and_never_says_zero() -> None:
    counter = CalibratedTokenCounter()
    assert counter.count("") == 1
    assert counter.count("\ud800 lone surrogate") >= 1


def test_a_model_counting_more_moves_the_factor_up_past_it() -> None:
    counter = CalibratedTokenCounter()
    estimate = counter.count(JAPANESE)
    actual = round(estimate * 1.4)
    counter.observe(estimate, actual)
    assert counter.factor == pytest.approx(1.4 * SAFETY_MARGIN, rel=0.01)
    assert counter.count(JAPANESE) >= actual  # now never low for this prompt


def test_a_model_counting_less_tightens_the_estimate_but_never_below_the_truth() -> None:
    counter = CalibratedTokenCounter()
    text = ENGLISH * 20
    estimate = counter.count(text)
    actual = round(estimate * 0.75)
    counter.observe(estimate, actual)
    assert counter.factor < 1.0
    assert actual <= counter.count(text) <= actual * SAFETY_MARGIN + 1


def test_the_factor_follows_the_worst_prompt_of_the_window_then_forgets_it() -> None:
    counter = CalibratedTokenCounter()
    counter.observe(100, 200)  # one prompt the model counted double
    high = counter.factor
    assert high == pytest.approx(2.0 * SAFETY_MARGIN)
    for _ in range(WINDOW - 1):  # agreeing prompts: the outlier still rules
        counter.observe(round(100 * counter.factor), 80)
        assert counter.factor == pytest.approx(high, rel=0.02)
    counter.observe(round(100 * counter.factor), 80)  # the outlier leaves the window
    assert counter.factor == pytest.approx(0.8 * SAFETY_MARGIN, rel=0.02)


def test_the_factor_stays_within_its_bounds() -> None:
    counter = CalibratedTokenCounter()
    counter.observe(10, 10_000)
    assert counter.factor == MAX_FACTOR
    counter = CalibratedTokenCounter()
    counter.observe(10_000, 10)
    assert counter.factor == MIN_FACTOR


@pytest.mark.parametrize(("estimated", "actual"), [(0, 10), (10, 0), (-5, 10)])
def test_nonsense_usage_numbers_are_ignored(estimated: int, actual: int) -> None:
    counter = CalibratedTokenCounter()
    counter.observe(estimated, actual)
    assert counter.factor == 1.0
