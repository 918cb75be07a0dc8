"""``manga-assist preflight``: check an AWS account before deploying the stack into it — the model's
lifecycle and access, one real call of it, Lambda's concurrency quota against the template's
reservation, and the existing stack's table and queues. One line per finding (docs/DEPLOY.md says
what each means); exit status 1 when any would make the deployment or its first message fail."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from typing import Any

from adapters.bedrock_models import DEFAULT_MODEL_ID


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model-id", help=f"the ModelId you deploy with (default MODEL_ID or {DEFAULT_MODEL_ID})"
    )
    parser.add_argument(
        "--reserved-concurrency",
        type=int,
        default=0,
        metavar="N",
        help="the MessageReservedConcurrency you deploy with (default 0: none, as the template)",
    )
    parser.add_argument("--stack-name", default="manga-assist", help="the stack (default manga-assist)")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or us-east-1)")
    parser.add_argument("--no-invoke", action="store_true", help="skip the one real model call")


def run(args: argparse.Namespace) -> int:
    from adapters.preflight import FAIL, NOTHING_ASKED, summary
    from entrypoints.container import build_container

    container = build_container(dict(os.environ))
    region = args.region or container.config.region()
    session = container.adapters.boto_session()
    model_id = args.model_id or os.environ.get("MODEL_ID", "").strip() or DEFAULT_MODEL_ID
    print(f"preflight of {model_id} in {region}, stack {args.stack_name}")
    try:
        findings = checks(
            {name: session.client(name, region_name=region) for name in CLIENTS},
            model_id,
            args.reserved_concurrency,
            args.stack_name,
            invoke=not args.no_invoke,
        )
    except NOTHING_ASKED as error:
        print(f"fail  {'aws':<19} {error}")
        return 1
    for finding in findings:
        print(finding.line())
    print(summary(findings))
    return 1 if any(f.status == FAIL for f in findings) else 0


CLIENTS = ("bedrock", "bedrock-runtime", "lambda", "cloudformation", "dynamodb", "sqs")


def checks(
    clients: dict[str, Any],
    model_id: str,
    reserved: int,
    stack_name: str,
    invoke: bool = True,
    now: datetime | None = None,
) -> list[Any]:
    from adapters.preflight import account, model

    now = now or datetime.now(UTC)
    findings = [*model.lifecycle(clients["bedrock"], model_id, now), model.known(model_id)]
    findings.append(model.access(clients["bedrock"], model_id))
    if invoke:
        findings.append(model.invocation(clients["bedrock-runtime"], model_id))
    held = account.held_reservation(clients["cloudformation"], clients["lambda"], stack_name)
    findings.append(account.concurrency(clients["lambda"], reserved, held))
    findings += account.stack_resources(
        clients["cloudformation"], clients["dynamodb"], clients["sqs"], stack_name
    )
    return findings
