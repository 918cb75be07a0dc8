"""Reading the limits' counters back for an operator (``manga-assist usage``): one customer's days
with a Query of their partition; one day's customers with a Scan (an operator's tool: it reads the
whole table, so it is never on a request path); every customer's total from the budget's shards."""

from __future__ import annotations

from typing import Any

from adapters.dynamodb.all_customers import AllCustomersBudget
from adapters.dynamodb.counters import CUSTOMER_PREFIX, USAGE_PREFIX, customer_partition
from adapters.dynamodb.errors import translated
from adapters.dynamodb.layout import PK, SK, Item
from domain.limits import DailyUsage

PROJECTION = "#pk, #sk, #tokens, #replies"
NAMES = {"#pk": PK, "#sk": SK, "#tokens": "tokens", "#replies": "replies"}


class UsageTable:
    def __init__(self, client: Any, table: str, budget: AllCustomersBudget) -> None:
        self._client = client
        self._table = table
        self._budget = budget

    def customer(self, customer: str) -> list[DailyUsage]:
        items = self._pages(
            "query",
            KeyConditionExpression="#pk = :pk AND begins_with(#sk, :usage)",
            ExpressionAttributeValues={
                ":pk": {"S": customer_partition(customer)},
                ":usage": {"S": USAGE_PREFIX},
            },
        )
        return [_usage(item) for item in items]

    def day(self, day: str) -> list[DailyUsage]:
        items = self._pages(
            "scan",
            FilterExpression="#sk = :sk AND begins_with(#pk, :customers)",
            ExpressionAttributeValues={
                ":sk": {"S": USAGE_PREFIX + day},
                ":customers": {"S": CUSTOMER_PREFIX},
            },
        )
        return [_usage(item) for item in items]

    def all_customers(self, day: str) -> int:
        return self._budget.total(day)

    def _pages(self, operation: str, **request: Any) -> list[Item]:
        items: list[Item] = []
        start: dict[str, Any] = {}
        while True:
            with translated(operation.capitalize()):
                answer = getattr(self._client, operation)(
                    TableName=self._table,
                    ProjectionExpression=PROJECTION,
                    ExpressionAttributeNames=NAMES,
                    **request,
                    **start,
                )
            items.extend(answer.get("Items", []))
            if "LastEvaluatedKey" not in answer:
                return items
            start = {"ExclusiveStartKey": answer["LastEvaluatedKey"]}


def _usage(item: Item) -> DailyUsage:
    return DailyUsage(
        customer=item[PK]["S"].removeprefix(CUSTOMER_PREFIX),
        day=item[SK]["S"].removeprefix(USAGE_PREFIX),
        tokens=int(item.get("tokens", {}).get("N", "0")),
        replies=int(item.get("replies", {}).get("N", "0")),
    )
