"""The limits that protect the bill, as the message path applies them: whose counters a message
moves, what it must pass (the store checks it atomically with the message), what its reply costs,
and what the operators see (refusals by limit, the all-customers budget's use)."""

from __future__ import annotations

from datetime import datetime

from application import telemetry as metric
from application.ports import RecordedMessage, SessionStore, Telemetry, Usage
from domain.errors import LimitReached
from domain.limits import Limit, LimitCheck, LimitPolicy, customer_key


class MessageLimits:
    def __init__(self, sessions: SessionStore, policy: LimitPolicy, telemetry: Telemetry) -> None:
        self._sessions = sessions
        self._policy = policy
        self._telemetry = telemetry

    def customer(self, session_id: str, authorized: str | None) -> str:
        """Whose counters: the customer the authorizer vouched for (every deployed mode); without an
        authorizer (``AUTH_MODE=none``, local development), the one the session was opened for."""
        if authorized is not None:
            return authorized
        session = self._sessions.get(session_id)
        return customer_key(session.customer_id if session is not None else None, session_id)

    def check(self, customer: str, at: datetime, calls_model: bool) -> LimitCheck:
        return self._policy.check(customer, at, calls_model)

    def refused(self, refusal: LimitReached) -> None:
        self._telemetry.count(metric.MESSAGES_REFUSED_BY_LIMIT, limit=refusal.limit)
        if refusal.limit == Limit.DAILY_TOKENS:  # spent: the alarm must keep seeing it while it refuses
            self._telemetry.percent(metric.DAILY_BUDGET_USED_PERCENT, 100.0)

    def observe(self, recorded: RecordedMessage) -> None:
        """What the all-customers budget's 80% alarm watches, as the store saw the day's total."""
        if recorded.budget_spent is not None and self._policy.daily_tokens:
            used = 100 * recorded.budget_spent / self._policy.daily_tokens
            self._telemetry.percent(metric.DAILY_BUDGET_USED_PERCENT, used)


def charged_tokens(usage: Usage, estimated_input: int, estimated_output: int) -> int:
    """What a reply costs a budget: input and output tokens as the model reports them; our own
    estimates (never low) for a count it did not report, so a silent model is not free."""
    spent_in = usage.input_tokens if usage.input_tokens is not None else estimated_input
    spent_out = usage.output_tokens if usage.output_tokens is not None else estimated_output
    return spent_in + spent_out
