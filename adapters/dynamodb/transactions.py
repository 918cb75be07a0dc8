"""Writing items of one session partition: conditional puts and updates, alone or as one
``TransactWriteItems``, with a cancelled transaction handed back as its cancellation reasons.

Every item of a transaction asks for ``ALL_OLD`` on a failed condition, so the reasons carry the
old image the condition was judged on; when a reason carries none, ``stored_*`` read the item
(strongly consistent) instead."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from botocore.exceptions import ClientError

from adapters.dynamodb.converter import MessageState, message_from, session_from
from adapters.dynamodb.errors import (
    CONDITION_FAILED,
    RETRYABLE_REASONS,
    TRANSACTION_CONFLICT,
    Backoff,
    Reason,
    cancellation_reasons,
    error_code,
    translated,
)
from adapters.dynamodb.expressions import Update
from adapters.dynamodb.item_size import ensure_fits
from adapters.dynamodb.layout import PK, Item, key
from adapters.dynamodb.reads import TableReads
from application.errors import Unavailable
from domain.model import Session

ALL_OLD = {"ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
KNOWN_REASONS = RETRYABLE_REASONS | {CONDITION_FAILED, "None"}


class Cancelled(Exception):
    """A transaction DynamoDB cancelled for reasons the caller must judge (conditions, conflicts)."""

    def __init__(self, reasons: list[Reason]) -> None:
        super().__init__(", ".join(r.code for r in reasons))
        self.reasons = reasons

    @property
    def any_condition_failed(self) -> bool:
        return any(r.condition_failed for r in self.reasons)


class TokenReused(Exception):
    """The same ClientRequestToken came back with other parameters within DynamoDB's 10 minutes."""


class PartitionWriter:
    def __init__(
        self, client: Any, table_name: str, reads: TableReads, backoff: Backoff | None = None
    ) -> None:
        self.client = client
        self.table = table_name
        self.reads = reads
        self._backoff = backoff or Backoff()

    def _single(self, operation: str, call: Callable[[], Any]) -> Any:
        """One single-item write. DynamoDB refuses it with ``TransactionConflictException`` while a
        transaction holds the item (a reply being stored as the client disconnects or resumes); botocore
        does not retry that, so it is retried here like throttling, then becomes ``Unavailable``."""
        for attempt in range(self._backoff.attempts):
            try:
                with translated(operation):
                    return call()
            except ClientError as error:
                if error_code(error) != TRANSACTION_CONFLICT:
                    raise
                if attempt + 1 < self._backoff.attempts:
                    self._backoff.pause(attempt)
        raise Unavailable(f"DynamoDB {operation}: the item stayed held by other transactions")

    def put(self, session_id: str, sort_key: str, attributes: Item, what: str = "") -> dict[str, Any]:
        """A transactional Put of a new item; ``what`` names it in ``MessageTooLarge``."""
        item = {**key(session_id, sort_key), **attributes}
        ensure_fits(item, what or sort_key)
        return {
            "Put": {
                "TableName": self.table,
                "Item": item,
                "ConditionExpression": "attribute_not_exists(#pk)",
                "ExpressionAttributeNames": {"#pk": PK},
                **ALL_OLD,
            }
        }

    def put_new(self, session_id: str, sort_key: str, attributes: Item, what: str = "") -> bool:
        """One PutItem of an item that must not exist yet; False when it did (nothing written)."""
        request = self.put(session_id, sort_key, attributes, what)["Put"]
        del request["ReturnValuesOnConditionCheckFailure"]
        try:
            self._single("PutItem", lambda: self.client.put_item(**request))
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def update(self, session_id: str, sort_key: str, update: Update) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self.table,
                "Key": key(session_id, sort_key),
                **update.request(),
                **ALL_OLD,
            }
        }

    def transact(self, items: list[dict[str, Any]], token: str | None = None) -> None:
        """All or nothing. Raises ``Cancelled`` for conditions and conflicts, ``Unavailable`` for
        throttling left after botocore's retries; anything else (a ``ValidationError``) propagates."""
        extra = {"ClientRequestToken": token} if token else {}
        try:
            with translated("TransactWriteItems"):
                self.client.transact_write_items(TransactItems=items, **extra)
        except ClientError as error:
            if error_code(error) == "IdempotentParameterMismatchException":
                raise TokenReused(token) from error
            reasons = cancellation_reasons(error)
            if reasons is None or any(r.code not in KNOWN_REASONS for r in reasons):
                raise
            raise Cancelled(reasons) from error

    def update_if(
        self, session_id: str, sort_key: str, update: Update, old_on_failure: bool = False
    ) -> Item | None:
        """One conditional UpdateItem. ``None`` when it was written; when its condition failed, the
        old item (or ``{}`` if there was none, or if ``old_on_failure`` is off)."""
        extra = ALL_OLD if old_on_failure else {}
        request = {"TableName": self.table, "Key": key(session_id, sort_key), **update.request(), **extra}
        try:
            self._single("UpdateItem", lambda: self.client.update_item(**request))
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            return cast(Item, error.response.get("Item") or {})
        return None

    def stored_item(self, session_id: str, sort_key: str, reason: Reason) -> Item | None:
        return reason.item or self.reads.item(session_id, sort_key)

    def stored_session(self, session_id: str, reason: Reason) -> Session | None:
        return session_from(reason.item) if reason.item else self.reads.session(session_id)

    def stored_message(self, session_id: str, message_id: str, reason: Reason) -> MessageState | None:
        return message_from(reason.item) if reason.item else self.reads.message(session_id, message_id)
