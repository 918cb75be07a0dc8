"""Update and condition expressions with their placeholders made on the way, and the one update that
DynamoDB cannot express directly: moving a session's expiry forward but never back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from attrs import evolve, frozen

from adapters.dynamodb.converter import ttl_of, value
from adapters.dynamodb.layout import PK, AttributeValue, Item
from domain.model import Session


class Update:
    """One UpdateItem (or transactional Update): ``set``/``remove`` clauses, conditions joined by AND."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, AttributeValue] = {}
        self._sets: list[str] = []
        self._removes: list[str] = []
        self._conditions: list[str] = []

    def n(self, attribute: str) -> str:
        placeholder = f"#{attribute}"
        self.names[placeholder] = attribute
        return placeholder

    def v(self, python: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = value(python)
        return placeholder

    def raw(self, attribute_value: AttributeValue) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = attribute_value
        return placeholder

    def set(self, attribute: str, python: Any) -> Update:
        self._sets.append(f"{self.n(attribute)} = {self.v(python)}")
        return self

    def set_item(self, item: Item, keep: frozenset[str] = frozenset()) -> Update:
        """Every attribute of ``item``; those of ``keep`` are left as stored."""
        for attribute, attribute_value in item.items():
            if attribute not in keep:
                self._sets.append(f"{self.n(attribute)} = {self.raw(attribute_value)}")
        return self

    def increment(self, attribute: str) -> Update:
        counter = self.n(attribute)
        self._sets.append(f"{counter} = {counter} + {self.v(1)}")
        return self

    def remove(self, attribute: str) -> Update:
        self._removes.append(self.n(attribute))
        return self

    def when(self, condition: str) -> Update:
        self._conditions.append(condition)
        return self

    def exists(self) -> Update:
        return self.when(f"attribute_exists({self.n(PK)})")

    def request(self) -> dict[str, Any]:
        clauses = []
        if self._sets:
            clauses.append("SET " + ", ".join(self._sets))
        if self._removes:
            clauses.append("REMOVE " + ", ".join(self._removes))
        request: dict[str, Any] = {
            "UpdateExpression": " ".join(clauses),
            "ExpressionAttributeNames": self.names,
        }
        if self._conditions:
            request["ConditionExpression"] = " AND ".join(f"({c})" for c in self._conditions)
        if self.values:
            request["ExpressionAttributeValues"] = self.values
        return request


@frozen
class Refresh:
    """Moves META's expiry (``expires_at`` and ``ttl``) and ``updated_at`` forward, never back.

    DynamoDB has no ``max()``: each move is guarded by a condition that the stored value is not
    newer. When a concurrent write already moved it further, the transaction is cancelled, and the
    next attempt (``against`` the stored session) leaves that attribute alone. In the common case,
    one writer at a time, both moves hold and cost nothing extra."""

    expires_at: datetime
    updated_at: datetime
    move_expiry: bool = True
    move_updated: bool = True

    def apply(self, update: Update) -> None:
        if self.move_expiry:
            update.set("expires_at", self.expires_at).set("ttl", ttl_of(self.expires_at))
            update.when(
                f"attribute_not_exists({update.n('expires_at')})"
                f" OR {update.n('expires_at')} <= {update.v(self.expires_at)}"
            )
        if self.move_updated:
            update.set("updated_at", self.updated_at)
            update.when(f"{update.n('updated_at')} <= {update.v(self.updated_at)}")

    def against(self, stored: Session) -> Refresh:
        return evolve(
            self,
            move_expiry=stored.expires_at < self.expires_at,
            move_updated=stored.updated_at < self.updated_at,
        )

    @property
    def variant(self) -> str:
        return f"{int(self.move_expiry)}{int(self.move_updated)}"


def live_condition(update: Update, now: datetime) -> str:
    """The session has not expired at ``now`` (a META from the original layout has only ``ttl``)."""
    expires, ttl, moment = update.n("expires_at"), update.n("ttl"), update.v(now)
    return f"{expires} > {moment} OR (attribute_not_exists({expires}) AND {ttl} > {moment})"
