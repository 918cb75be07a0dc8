"""A worker failing on every poll says so once, polls less and less often, and says when it works again."""

from __future__ import annotations

import logging

import pytest
from botocore.exceptions import EndpointConnectionError

from entrypoints.worker_backoff import Backoff


def test_a_repeated_failure_is_one_line_and_the_polls_spread_out(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("tests.backoff")
    backoff = Backoff("stream workers", log, interval=0.5, ceiling=4.0)
    waits = []
    with caplog.at_level(logging.INFO, logger="tests.backoff"):
        for _ in range(6):
            backoff.failed(EndpointConnectionError(endpoint_url="http://127.0.0.1:5000/"))
            waits.append(backoff.wait)
        backoff.succeeded()
    assert waits == [1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert backoff.wait == 0.5
    assert [r.getMessage() for r in caplog.records] == [
        "stream workers: cannot reach http://127.0.0.1:5000/: is it running?; retrying every 4 s at most",
        "stream workers: working again",
    ]
    assert not any(r.exc_info for r in caplog.records)  # no trace unless debugging
