"""Names of the metrics the service emits, and a telemetry that records nothing."""

from __future__ import annotations

MESSAGES_RECEIVED = "MessagesReceived"
REPLIES_SENT = "RepliesSent"
REPLIES_UNDELIVERED = "RepliesStoredButUndelivered"  # the Management API failed after retries
REPLIES_REPLAYED = "RepliesReplayed"  # a repeated message id answered from the store
MESSAGES_FORWARDED = "MessagesForwardedToAgent"
AGENT_REPLIES = "AgentReplies"
HANDOFF_CLAIM_RACES = "HandoffClaimRaces"  # a claim's transaction found the session changed meanwhile
HANDOFFS_UNCLAIMED = "HandoffsUnclaimed"  # nobody claimed within HANDOFF_UNCLAIMED_SECONDS
FRAMES_REFUSED = "FramesRefused"  # dimension: code
MODEL_FIRST_TOKEN_MS = "ModelFirstTokenLatency"
MODEL_REPLY_MS = "ModelReplyLatency"
MODEL_FAILURES = "ModelFailures"
REPLIES_CUT_SHORT = "RepliesCutShort"  # the reply's deadline came first: stored with a visible mark
TOKENS_IN = "TokensIn"
TOKENS_OUT = "TokensOut"
WRITES_QUEUED = "WritesQueuedForRetry"
PUSHES_TO_GONE = "PushesToGoneConnections"
STORE_RETRIES = "DynamoDBRetries"
EXPECTED_CONDITION_FAILURES = "ExpectedConditionalCheckFailures"  # repeats, races: not errors
WRITES_FOR_GONE_SESSIONS = "PendingWritesForExpiredSessions"  # the session was cleaned up meanwhile
MESSAGES_REFUSED_BY_LIMIT = "MessagesRefusedByLimit"  # dimension: limit (domain.limits.Limit)
DAILY_BUDGET_USED_PERCENT = "DailyTokenBudgetUsedPercent"  # all customers' tokens today, % of DAILY_TOKENS


class NoTelemetry:
    def count(self, name: str, value: float = 1, **dimensions: str) -> None:  # noqa: ARG002 - the port's
        return None

    def milliseconds(self, name: str, value: float) -> None:  # noqa: ARG002 - the port's signature
        return None

    def percent(self, name: str, value: float) -> None:  # noqa: ARG002 - the port's signature
        return None
