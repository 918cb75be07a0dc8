"""What customers spend on the model, for an operator (``manga-assist usage``): one customer's days,
or one day's customers, as tokens per customer-day with their percentiles, against the budgets."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from application.ports import Clock, UsageReads
from domain.limits import DailyUsage, LimitPolicy, utc_day

PERCENTILES = (50, 90, 99)


def percentile(sorted_values: Sequence[int], pct: int) -> int:
    """Nearest rank: the smallest value at least ``pct`` percent of the values are not above."""
    if not sorted_values:
        return 0
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def distribution(days: Sequence[DailyUsage]) -> dict[str, int]:
    tokens = sorted(d.tokens for d in days)
    return {
        "customer_days": len(tokens),
        **{f"p{pct}": percentile(tokens, pct) for pct in PERCENTILES},
        "max": tokens[-1] if tokens else 0,
        "total": sum(tokens),
    }


class UsageReport:
    def __init__(self, reads: UsageReads, clock: Clock, limits: LimitPolicy) -> None:
        self._reads = reads
        self._clock = clock
        self._limits = limits

    def customer(self, customer_id: str) -> dict[str, Any]:
        """One customer's days (as many as the store keeps), oldest first."""
        days = sorted(self._reads.customer_usage(customer_id), key=lambda d: d.day)
        budget = self._limits.customer_daily_tokens
        return {
            "customer_id": customer_id,
            "customer_daily_tokens": budget,
            "tokens_per_day": distribution(days),
            "days": [
                {
                    "day": d.day,
                    "tokens": d.tokens,
                    "replies": d.replies,
                    "of_budget": _share(d.tokens, budget),
                }
                for d in days
            ],
        }

    def day(self, day: str | None = None) -> dict[str, Any]:
        """Every customer's tokens of one UTC day (today by default), and all of them together."""
        day = day or utc_day(self._clock.now())
        usage = self._reads.usage_of_day(day)
        # Every customer's day is counted apart only for DAILY_TOKENS; without it, the sum says it.
        everyone = (
            self._reads.all_customers_tokens(day)
            if self._limits.daily_tokens
            else sum(u.tokens for u in usage)
        )
        heaviest = sorted(usage, key=lambda d: d.tokens, reverse=True)[:10]
        budget = self._limits.customer_daily_tokens
        return {
            "day": day,
            "tokens_per_customer": distribution(usage),
            "all_customers_tokens": everyone,
            "daily_tokens": self._limits.daily_tokens,
            "of_daily_budget": _share(everyone, self._limits.daily_tokens),
            "customer_daily_tokens": self._limits.customer_daily_tokens,
            "customers_at_budget": sum(1 for d in usage if budget and d.tokens >= budget),
            "heaviest": [
                {"customer_id": d.customer, "tokens": d.tokens, "replies": d.replies} for d in heaviest
            ],
        }


def _share(tokens: int, budget: int) -> float | None:
    """Percent of ``budget``; ``None`` when there is no budget."""
    return round(100 * tokens / budget, 1) if budget else None
