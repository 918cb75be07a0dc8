"""What each function loads, in a fresh interpreter as Lambda starts one: the message path (and
``$connect``) never the JOSE library, even when it signs a guest's resume token; the authorizer
neither boto3 nor the conversation's container unless its secret is read from Secrets Manager."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.deploy.conftest import OFFLINE_AWS, ROOT

MESSAGE_PATH = """
import json, sys
from entrypoints import connect, message
from entrypoints.container import get_container
from testing.notifier import RecordingNotifier
from dependency_injector import providers
notifier = RecordingNotifier()
get_container().adapters.notifier.override(providers.Object(notifier))
ctx = {"connectionId": "c1", "domainName": "x", "stage": "prod", "requestId": "r1"}
who = {"customer_id": "guest:abc", "principalId": "guest:abc", "role": "customer"}
assert connect.handler({"requestContext": {**ctx, "authorizer": who}}, None)["statusCode"] == 200
out = message.handler({"requestContext": {**ctx, "messageId": "m1"}, "body": '{"action": "session"}'}, None)
assert out["statusCode"] == 200 and "resume_token" in notifier.of("c1", "session")[-1]
print(json.dumps(sorted(sys.modules)))
"""

AUTHORIZER = """
import json, sys
from entrypoints import authorizer
event = {"methodArn": "arn:aws:execute-api:us-east-1:1:a/prod/$connect", "headers": {}}
assert authorizer.handler(event, None)["principalId"].startswith("guest:")
print(json.dumps(sorted(sys.modules)))
"""


def modules_after(code: str, **env: str) -> set[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AUTH_"))}
    clean.update(OFFLINE_AWS, PYTHONPATH=str(ROOT), POWERTOOLS_LOG_LEVEL="WARNING", **env)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def families(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_the_message_path_never_loads_the_jose_library() -> None:
    loaded = families(modules_after(MESSAGE_PATH, AUTH_MODE="guest", AUTH_GUEST_SECRET="s" * 32))
    assert "entrypoints" in loaded, "the probe ran nothing"
    assert not loaded & {"joserfc", "cryptography"}


def test_the_authorizer_loads_neither_boto3_nor_the_conversation() -> None:
    loaded = modules_after(AUTHORIZER, AUTH_MODE="guest", AUTH_GUEST_SECRET="s" * 32)
    assert "entrypoints.authorizer" in loaded
    # Powertools' logger imports botocore's top package (one small module) to tag its user agent.
    assert "boto3" not in families(loaded) and loaded & {"botocore.session", "botocore.client"} == set()
    assert not loaded & {"entrypoints.container", "application.send_message", "adapters.memory"}
