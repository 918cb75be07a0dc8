"""The retry queue's dead-letter queue: writes the turn writer gave up on after ``maxReceiveCount``
receives. ``manga-assist redrive`` reads them from here, moving them back or replaying them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from attrs import frozen

BATCH = 10  # SQS's most per ReceiveMessage / SendMessageBatch / DeleteMessageBatch


@frozen
class DeadLetter:
    message_id: str
    receipt_handle: str
    body: str
    receive_count: int


class SqsDeadLetters:
    def __init__(self, client: Any, dlq_url: str) -> None:
        self._client = client
        self._url = dlq_url

    def receive(self, limit: int, visibility_seconds: int = 60) -> Iterator[list[DeadLetter]]:
        """Batches of at most 10 until the queue seems empty or ``limit`` letters were read. A letter
        read stays invisible to other readers for ``visibility_seconds`` unless deleted."""
        taken = 0
        while taken < limit:
            response = self._client.receive_message(
                QueueUrl=self._url,
                MaxNumberOfMessages=min(BATCH, limit - taken),
                WaitTimeSeconds=1,
                VisibilityTimeout=visibility_seconds,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
            messages = response.get("Messages", [])
            if not messages:
                return
            taken += len(messages)
            yield [
                DeadLetter(
                    m["MessageId"],
                    m["ReceiptHandle"],
                    m["Body"],
                    int(m.get("Attributes", {}).get("ApproximateReceiveCount", "1")),
                )
                for m in messages
            ]

    def move_to(self, queue_url: str, letters: list[DeadLetter]) -> list[DeadLetter]:
        """Send the letters to ``queue_url``, then delete from here those it accepted; the moved ones."""
        response = self._client.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "MessageBody": letter.body} for i, letter in enumerate(letters)],
        )
        moved = [letters[int(entry["Id"])] for entry in response.get("Successful", [])]
        self.delete(moved)
        return moved

    def delete(self, letters: list[DeadLetter]) -> None:
        if letters:
            self._client.delete_message_batch(
                QueueUrl=self._url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": letter.receipt_handle} for i, letter in enumerate(letters)
                ],
            )
