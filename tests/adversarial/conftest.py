"""The adversarial suite writes what it tried and found to artifacts/adversarial-report.json."""

from __future__ import annotations

import pytest

from tests.adversarial.ledger import LEDGER


@pytest.fixture(autouse=True)
def _no_account_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's account-id endpoints would route around moto's in-process mock."""
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not LEDGER.empty:
        LEDGER.write()
