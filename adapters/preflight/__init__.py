"""``manga-assist preflight``: what an AWS account must offer before the stack is deployed into it,
asked of AWS itself. Each check is a function of the clients it is given (botocore's ``Stubber``
answers them in tests) and returns ``Finding``s; none of them writes anything."""

from __future__ import annotations

from attrs import frozen
from botocore.exceptions import BotoCoreError

# AWS could not be asked at all (no credentials, no network): the command says so and stops.
NOTHING_ASKED = (BotoCoreError,)

OK = "ok"
WARN = "warn"  # deployable, but read this first
FAIL = "fail"  # the deployment, or its first message, would fail


@frozen
class Finding:
    check: str
    status: str
    detail: str

    def line(self) -> str:
        return f"{self.status:<5} {self.check:<19} {self.detail}"


def summary(findings: list[Finding]) -> str:
    failed = sum(f.status == FAIL for f in findings)
    warned = sum(f.status == WARN for f in findings)
    verdict = "do not deploy yet" if failed else "ready to deploy"
    return f"preflight: {failed} failed, {warned} to read — {verdict}"
