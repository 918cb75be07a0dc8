"""When a reply must stop streaming: before API Gateway gives up on the integration (29 s after it
received the frame, ``requestContext.requestTimeEpoch``) or Lambda ends the function
(``context.get_remaining_time_in_millis()``), whichever comes first, less a margin in which the reply
is stored and its last frames pushed. The local gateway gives the same context and event."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from application.deadline import Deadline
from application.ports import Clock

API_GATEWAY_SECONDS = 29.0
# Storing the reply (one transaction, or the retry queue), then pushing its last frames, each push
# given up at the function's end (application.deadline.BoundedNotifier); a write's own retries can
# take longer in the worst case, when the table itself is failing (docs/DEPLOY.md, *Limits AWS enforces*).
MARGIN_SECONDS = 5.0


def reply_deadline(
    context: Any, event: Mapping[str, Any], clock: Clock, wall: Callable[[], float] = time.time
) -> Deadline | None:
    """``None`` when invoked without a Lambda context (tests, in-process tools): no deadline."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    budget = remaining() / 1000
    received = (event.get("requestContext") or {}).get("requestTimeEpoch")
    if isinstance(received, int | float) and received > 0:
        waited = min(max(wall() - received / 1000, 0.0), API_GATEWAY_SECONDS)
        budget = min(budget, API_GATEWAY_SECONDS - waited)
    return Deadline.within(clock, budget - MARGIN_SECONDS, margin=MARGIN_SECONDS)
