"""The arithmetic of limits: windows and days in UTC, what a refusal tells the client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.errors import LimitReached
from domain.limits import Charge, Limit, LimitPolicy, customer_key, rate_window, seconds_until, utc_day

AT = datetime(2026, 12, 1, 23, 59, 15, 250_000, tzinfo=UTC)


def test_a_rate_window_is_the_utc_minute_and_a_day_the_utc_date_whatever_the_offset() -> None:
    tokyo = AT.astimezone(timezone(timedelta(hours=9)))  # already 2 December there
    assert rate_window(tokyo) == datetime(2026, 12, 1, 23, 59, tzinfo=UTC)
    assert utc_day(tokyo) == "2026-12-01"
    assert utc_day(AT + timedelta(seconds=45)) == "2026-12-02"


def test_retry_after_rounds_up_and_is_never_zero() -> None:
    assert seconds_until(AT, AT + timedelta(seconds=44.75)) == 45
    assert seconds_until(AT, AT) == 1
    assert seconds_until(AT, AT - timedelta(seconds=5)) == 1


def test_a_rate_refusal_waits_for_the_next_minute() -> None:
    refusal = LimitPolicy().check("c-1", AT, calls_model=True).refused(Limit.MESSAGE_RATE)
    assert isinstance(refusal, LimitReached)
    assert (refusal.limit, refusal.retry_after) == ("message_rate", 45)
    assert "too fast" in str(refusal) and "45 s" in str(refusal)


def test_a_budget_refusal_waits_for_the_next_utc_day() -> None:
    morning = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    check = LimitPolicy().check("c-1", morning, calls_model=True)
    mine = check.refused(Limit.CUSTOMER_DAILY_TOKENS)
    everyones = check.refused(Limit.DAILY_TOKENS)
    assert mine.retry_after == everyones.retry_after == 14 * 3600 + 30 * 60
    assert "your limit for today" in str(mine) and "14 h 30 min" in str(mine)
    assert "the assistant's limit" in str(everyones)
    late = LimitPolicy().check("c-1", AT, calls_model=True).refused(Limit.CUSTOMER_DAILY_TOKENS)
    assert late.retry_after == 45 and "1 min" in str(late)


def test_a_message_for_a_human_agent_is_bound_by_the_rate_only() -> None:
    policy = LimitPolicy(messages_per_minute=5, customer_daily_tokens=100, daily_tokens=1000)
    forwarded = policy.check("c-1", AT, calls_model=False)
    assert (forwarded.messages_per_minute, forwarded.customer_daily_tokens, forwarded.daily_tokens) == (
        5,
        0,
        0,
    )
    answered = policy.check("c-1", AT, calls_model=True)
    assert (answered.customer_daily_tokens, answered.daily_tokens) == (100, 1000)


def test_zero_turns_a_limit_off_and_negative_is_refused() -> None:
    assert not LimitPolicy(0, 0, 0).check("c-1", AT, calls_model=True).binds
    assert LimitPolicy(0, 1, 0).check("c-1", AT, calls_model=True).binds
    with pytest.raises(ValueError, match="must not be negative"):
        LimitPolicy(messages_per_minute=-1)


def test_a_charge_is_dated_by_the_day_the_message_was_accepted() -> None:
    charge = LimitPolicy().check("c-1", AT, calls_model=True).charge(1234)
    assert charge == Charge("c-1", "2026-12-01", 1234, everyone=False)
    assert LimitPolicy(daily_tokens=5).check("c-1", AT, calls_model=True).charge(1).everyone
    with pytest.raises(ValueError, match="must not be negative"):
        Charge("c-1", "2026-12-01", -1)


def test_an_anonymous_session_counts_on_its_own() -> None:
    assert customer_key("cust-1", "s-1") == "cust-1"
    assert customer_key(None, "s-1") == customer_key(None, "s-1") != customer_key(None, "s-2")
