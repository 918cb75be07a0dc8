"""The limits' counters (``domain.limits``) in the single table, outside every session's partition.

``PK = CUSTOMER#<customer>``
    ``SK = RATE#<minute>`` (``RATE#2026-12-01T09:30Z``): ``messages`` the customer sent in that UTC
    minute. The minute is in the key, so a stale counter is never read; ``ttl`` (an hour on) only
    clears it away.
    ``SK = USAGE#<day>`` (``USAGE#2026-12-01``): ``tokens`` the model spent answering the customer that
    UTC day and the ``replies`` they paid for; kept 35 days (``ttl``) for ``manga-assist usage``.
``PK = BUDGET#<day>#<shard>``, ``SK = TOTAL``
    ``tokens`` every customer together spent that day, spread over ``BUDGET_SHARDS`` items
    (``all_customers.py``).

A message's checks ride in the transaction that stores it (``MessageWrites.record``): an Update of
its minute's counter whose condition is "below the rate" (it counts the message too), and a
ConditionCheck "below the budget" on its day's usage. Both are all or nothing with the user turn, so
concurrent Lambdas can never let more through than the limit, and a refused message writes nothing.
The reply's transaction adds the model's tokens to the day (``charge_update``): once, with the reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from adapters.dynamodb.converter import ttl_of, value
from adapters.dynamodb.errors import Reason
from adapters.dynamodb.layout import PK, SK, TTL_ATTRIBUTE, Item
from domain.errors import LimitReached
from domain.limits import RATE_WINDOW, Charge, Limit, LimitCheck, day_start

CUSTOMER_PREFIX = "CUSTOMER#"
RATE_PREFIX = "RATE#"
USAGE_PREFIX = "USAGE#"
RATE_KEPT = timedelta(hours=1)
USAGE_KEPT = timedelta(days=35)


def customer_partition(customer: str) -> str:
    return CUSTOMER_PREFIX + customer


def rate_key(customer: str, window: datetime) -> Item:
    minute = window.strftime("%Y-%m-%dT%H:%MZ")
    return {PK: {"S": customer_partition(customer)}, SK: {"S": RATE_PREFIX + minute}}


def usage_key(customer: str, day: str) -> Item:
    return {PK: {"S": customer_partition(customer)}, SK: {"S": USAGE_PREFIX + day}}


def usage_ttl(day: str) -> int:
    return ttl_of(day_start(day) + USAGE_KEPT)


class LimitItems:
    """The items of one message's transaction that check its limits, and the judgement of their
    cancellation reasons. ``items`` go at the end of the transaction; ``refusal`` reads the reasons
    of those same positions."""

    def __init__(self, table: str, check: LimitCheck | None) -> None:
        self._check = check
        self._limits: list[Limit] = []
        self.items: list[dict[str, Any]] = []
        if check is None:
            return
        if check.messages_per_minute:
            self._limits.append(Limit.MESSAGE_RATE)
            self.items.append({"Update": _count_message(table, check)})
        if check.customer_daily_tokens:
            self._limits.append(Limit.CUSTOMER_DAILY_TOKENS)
            self.items.append({"ConditionCheck": _below_budget(table, check)})

    def refusal(self, reasons: Sequence[Reason]) -> LimitReached | None:
        """The first limit whose condition failed, as the refusal to raise; ``None`` if none did."""
        assert self._check is not None or not self._limits
        for limit, reason in zip(self._limits, reasons[len(reasons) - len(self._limits) :], strict=True):
            if reason.condition_failed and self._check is not None:
                return self._check.refused(limit)
        return None


def _count_message(table: str, check: LimitCheck) -> dict[str, Any]:
    return {
        "TableName": table,
        "Key": rate_key(check.customer, check.window),
        "UpdateExpression": "SET #messages = if_not_exists(#messages, :zero) + :one, #ttl = :ttl",
        "ConditionExpression": "attribute_not_exists(#messages) OR #messages < :limit",
        "ExpressionAttributeNames": {"#messages": "messages", "#ttl": TTL_ATTRIBUTE},
        "ExpressionAttributeValues": {
            ":zero": value(0),
            ":one": value(1),
            ":limit": value(check.messages_per_minute),
            ":ttl": value(ttl_of(check.window + RATE_WINDOW + RATE_KEPT)),
        },
    }


def _below_budget(table: str, check: LimitCheck) -> dict[str, Any]:
    return {
        "TableName": table,
        "Key": usage_key(check.customer, check.day),
        "ConditionExpression": "attribute_not_exists(#tokens) OR #tokens < :budget",
        "ExpressionAttributeNames": {"#tokens": "tokens"},
        "ExpressionAttributeValues": {":budget": value(check.customer_daily_tokens)},
    }


def charge_update(table: str, charge: Charge) -> dict[str, Any]:
    """The transactional Update adding a reply's tokens to its customer's day."""
    return {
        "Update": {
            "TableName": table,
            "Key": usage_key(charge.customer, charge.day),
            "UpdateExpression": (
                "SET #tokens = if_not_exists(#tokens, :zero) + :tokens,"
                " #replies = if_not_exists(#replies, :zero) + :one, #ttl = :ttl"
            ),
            "ExpressionAttributeNames": {
                "#tokens": "tokens",
                "#replies": "replies",
                "#ttl": TTL_ATTRIBUTE,
            },
            "ExpressionAttributeValues": {
                ":zero": value(0),
                ":one": value(1),
                ":tokens": value(charge.tokens),
                ":ttl": value(usage_ttl(charge.day)),
            },
        }
    }
