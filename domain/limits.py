"""Limits that protect the bill: how fast one customer may send, how many model tokens one customer
and all customers together may spend in a UTC day, and when a refused message may try again.

Windows are fixed and aligned to UTC: the message rate counts per calendar minute, token budgets per
calendar day. A fixed minute lets at most twice the rate through across a minute's boundary; in
exchange one counter per customer-minute decides atomically, with no read before the write."""

from __future__ import annotations

import enum
import math
from datetime import UTC, datetime, timedelta

from attrs import frozen

from domain.errors import LimitReached

RATE_WINDOW = timedelta(minutes=1)
DAY = timedelta(days=1)


class Limit(enum.StrEnum):
    MESSAGE_RATE = "message_rate"  # a customer's messages per minute
    CUSTOMER_DAILY_TOKENS = "customer_daily_tokens"  # a customer's model tokens per UTC day
    DAILY_TOKENS = "daily_tokens"  # every customer's model tokens together, per UTC day


def utc_day(moment: datetime) -> str:
    """The UTC calendar day of ``moment``: ``2026-12-01``; it sorts in time order."""
    return moment.astimezone(UTC).date().isoformat()


def day_start(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def rate_window(moment: datetime) -> datetime:
    """The start of the UTC minute holding ``moment``."""
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def seconds_until(moment: datetime, later: datetime) -> int:
    """Whole seconds from ``moment`` to ``later``, rounded up, at least 1: what ``retry_after`` says."""
    return max(1, math.ceil((later - moment).total_seconds()))


def customer_key(customer_id: str | None, session_id: str) -> str:
    """Whose counters a message moves: its customer's; an anonymous session (possible only without
    authentication, in local development) counts on its own."""
    return customer_id if customer_id is not None else f"anonymous:{session_id}"


@frozen
class LimitPolicy:
    """The configured limits; 0 turns one off."""

    messages_per_minute: int = 20
    customer_daily_tokens: int = 200_000
    daily_tokens: int = 0

    def __attrs_post_init__(self) -> None:
        if min(self.messages_per_minute, self.customer_daily_tokens, self.daily_tokens) < 0:
            raise ValueError("limits must not be negative (0 turns one off)")

    def check(self, customer: str, at: datetime, calls_model: bool) -> LimitCheck:
        """What a message sent ``at`` must pass. Token budgets only bind a message the model will
        answer: one forwarded to a human agent spends no tokens, so only the rate applies to it."""
        return LimitCheck(
            customer=customer,
            at=at,
            messages_per_minute=self.messages_per_minute,
            customer_daily_tokens=self.customer_daily_tokens if calls_model else 0,
            daily_tokens=self.daily_tokens if calls_model else 0,
        )


@frozen
class LimitCheck:
    """The limits one message must pass, checked by the store in the same atomic step that stores
    the message: the customer's count in this minute is below ``messages_per_minute`` (and then
    counts this message), and the tokens spent today are below each budget. 0 means no limit."""

    customer: str
    at: datetime
    messages_per_minute: int
    customer_daily_tokens: int
    daily_tokens: int

    @property
    def window(self) -> datetime:
        return rate_window(self.at)

    @property
    def window_ends(self) -> datetime:
        return self.window + RATE_WINDOW

    @property
    def day(self) -> str:
        return utc_day(self.at)

    @property
    def day_ends(self) -> datetime:
        return day_start(self.day) + DAY

    @property
    def binds(self) -> bool:
        return bool(self.messages_per_minute or self.customer_daily_tokens or self.daily_tokens)

    def refused(self, limit: Limit) -> LimitReached:
        """The refusal of this message by ``limit``, with the time until that limit lets it through."""
        if limit is Limit.MESSAGE_RATE:
            wait = seconds_until(self.at, self.window_ends)
            return LimitReached(
                limit, wait, f"you're sending messages too fast: please wait {wait} s before the next one"
            )
        wait = seconds_until(self.at, self.day_ends)
        whose = "your" if limit is Limit.CUSTOMER_DAILY_TOKENS else "the assistant's"
        return LimitReached(
            limit,
            wait,
            f"{whose} limit for today is reached: it resets at 00:00 UTC, in {_duration(wait)}",
        )

    def charge(self, tokens: int) -> Charge:
        return Charge(customer=self.customer, day=self.day, tokens=tokens, everyone=self.daily_tokens > 0)


@frozen
class Charge:
    """Model tokens one reply used, added to its customer's day, and to every customer's day when
    that is counted (``everyone``: an all-customers budget is set)."""

    customer: str
    day: str
    tokens: int
    everyone: bool = False

    def __attrs_post_init__(self) -> None:
        if self.tokens < 0:
            raise ValueError("a charge must not be negative")


@frozen
class DailyUsage:
    """What one customer spent in one UTC day: model tokens and the replies they paid for."""

    customer: str
    day: str
    tokens: int
    replies: int


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes = math.ceil(rest / 60)
    if minutes == 60:
        hours, minutes = hours + 1, 0
    if not hours:
        return f"{max(minutes, 1)} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
