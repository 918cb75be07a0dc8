"""API Gateway REQUEST authorizer of ``$connect`` (docs/PROTOCOL.md, "Authentication").

A credential that verifies gets an Allow policy for the event's ``methodArn``, with ``principalId``
the customer id and ``context`` ``{"customer_id", "role"}``, which API Gateway hands to ``$connect``
as ``requestContext.authorizer``. One that verifies but whose holder may not connect gets a Deny
(403). Anything else raises ``Exception("Unauthorized")``, API Gateway's 401. Every failure,
configuration included, refuses: nobody is let in by an error. The log line names the reason, never
the credential."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from application.authentication import Identity, NotPermitted, Unauthenticated, VerificationUnavailable
from entrypoints.authorizer_container import get_authorizer_container
from entrypoints.credentials import credential
from entrypoints.lambda_logging import METRICS_LOCK, bind, event_ids, logger, metrics, observed

UNAUTHORIZED = "Unauthorized"  # the exact message API Gateway turns into a 401
FAILURES = "AuthorizerFailures"  # the template's alarm watches it


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    bind(context, **event_ids(event))
    method_arn = event.get("methodArn")
    try:
        if not isinstance(method_arn, str) or not method_arn:
            raise Unauthenticated("the event has no methodArn")
        identity = get_authorizer_container().authenticate()(credential(event))
    except NotPermitted as refusal:
        logger.info("connection denied", extra={"reason": str(refusal)})
        return policy("denied", "Deny", str(method_arn))
    except VerificationUnavailable as failure:
        _failed(str(failure))
        raise Exception(UNAUTHORIZED) from None
    except Unauthenticated as refusal:
        logger.info("connection refused", extra={"reason": str(refusal)})
        raise Exception(UNAUTHORIZED) from None
    except Exception as error:
        # A misconfiguration or a bug of ours: still a refusal, but one an operator must see.
        _failed(type(error).__name__)
        raise Exception(UNAUTHORIZED) from None
    logger.info("connection allowed", extra={"role": identity.role})
    return allow(identity, method_arn)


def _failed(reason: str) -> None:
    logger.error("authorizer failed", extra={"reason": reason})
    with METRICS_LOCK:
        metrics.add_metric(name=FAILURES, unit=MetricUnit.Count, value=1)


def allow(identity: Identity, method_arn: str) -> dict[str, Any]:
    return {
        **policy(identity.customer_id, "Allow", method_arn),
        "context": {"customer_id": identity.customer_id, "role": identity.role},
    }


def policy(principal_id: str, effect: str, method_arn: str) -> dict[str, Any]:
    return {
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": method_arn}],
        },
    }
