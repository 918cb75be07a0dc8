"""The limits' counters of the in-memory store: the checks and counts the DynamoDB store makes in its
transactions, made here under the store's lock (the caller holds it). Old windows and days are
dropped as new ones begin, as DynamoDB's TTL would."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from domain.errors import LimitReached
from domain.limits import Charge, DailyUsage, Limit, LimitCheck, day_start, utc_day

KEPT = timedelta(days=35)  # as long as the DynamoDB store keeps a day's usage


class MemoryCounters:
    def __init__(self) -> None:
        self._messages: dict[tuple[str, datetime], int] = {}  # (customer, minute) -> messages
        self._usage: dict[tuple[str, str], DailyUsage] = {}  # (customer, day) -> usage
        self._everyone: dict[str, int] = {}  # day -> every customer's tokens

    def refusal(self, check: LimitCheck) -> LimitReached | None:
        """The first limit this message would pass beyond, as its refusal; ``None`` if it passes. In
        the DynamoDB store's order: every customer's budget (judged before its transaction), then the
        rate and the customer's budget (in its cancellation reasons' order)."""
        if check.daily_tokens and self.spent(check.day) >= check.daily_tokens:
            return check.refused(Limit.DAILY_TOKENS)
        sent = self._messages.get((check.customer, check.window), 0)
        if check.messages_per_minute and sent >= check.messages_per_minute:
            return check.refused(Limit.MESSAGE_RATE)
        spent = self._tokens(check.customer, check.day)
        if check.customer_daily_tokens and spent >= check.customer_daily_tokens:
            return check.refused(Limit.CUSTOMER_DAILY_TOKENS)
        return None

    def count(self, check: LimitCheck) -> None:
        if not check.messages_per_minute:
            return
        key = (check.customer, check.window)
        if key not in self._messages:
            for old in [k for k in self._messages if k[1] < check.window]:
                del self._messages[old]
        self._messages[key] = self._messages.get(key, 0) + 1

    def charge_customer(self, charge: Charge) -> None:
        key = (charge.customer, charge.day)
        known = self._usage.get(key) or DailyUsage(charge.customer, charge.day, 0, 0)
        self._usage[key] = DailyUsage(
            charge.customer, charge.day, known.tokens + charge.tokens, known.replies + 1
        )
        self._forget_before(charge.day)

    def charge_everyone(self, charge: Charge) -> None:
        self._everyone[charge.day] = self._everyone.get(charge.day, 0) + charge.tokens

    def spent(self, day: str) -> int:
        return self._everyone.get(day, 0)

    def customer_usage(self, customer: str) -> Sequence[DailyUsage]:
        return sorted((u for (c, _), u in self._usage.items() if c == customer), key=lambda u: u.day)

    def usage_of_day(self, day: str) -> Sequence[DailyUsage]:
        return [u for (_, d), u in self._usage.items() if d == day]

    def _tokens(self, customer: str, day: str) -> int:
        known = self._usage.get((customer, day))
        return known.tokens if known else 0

    def _forget_before(self, day: str) -> None:
        horizon = utc_day(day_start(day) - KEPT)
        for key in [k for k in self._usage if k[1] < horizon]:
            del self._usage[key]
        for old in [d for d in self._everyone if d < horizon]:
            del self._everyone[old]
