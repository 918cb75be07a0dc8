"""Metrics in CloudWatch Embedded Metric Format through Powertools: written to the log as JSON and
turned into CloudWatch metrics with no API call on the request path."""

from __future__ import annotations

import threading
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric


class PowertoolsTelemetry:
    """Plain metrics join the invocation's metric set (flushed once by the handler's
    ``log_metrics``); a dimensioned one is written at once as its own EMF line, and counted in the
    set as well without its dimensions. CloudWatch keeps one metric per set of dimensions and an
    alarm watches exactly one, so the total (``ModelFailures`` with ``service`` only) is what an alarm
    can rely on; the dimensioned line splits it (by ``kind``, ``code``) on a dashboard."""

    def __init__(self, metrics: Any, lock: threading.Lock | None = None) -> None:
        """``lock``: the one the handler's flush takes too, where invocations share a process."""
        self._metrics = metrics
        self._lock = lock or threading.Lock()

    def count(self, name: str, value: float = 1, **dimensions: str) -> None:
        if dimensions:
            with single_metric(
                name=name,
                unit=MetricUnit.Count,
                value=value,
                namespace=self._metrics.namespace,
                default_dimensions={"service": self._metrics.service, **dimensions},
            ):
                pass  # written when the block closes
        with self._lock:
            self._metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)

    def milliseconds(self, name: str, value: float) -> None:
        with self._lock:
            self._metrics.add_metric(name=name, unit=MetricUnit.Milliseconds, value=round(value, 3))

    def percent(self, name: str, value: float) -> None:
        with self._lock:
            self._metrics.add_metric(name=name, unit=MetricUnit.Percent, value=round(value, 2))
