"""The SAM template, as written and as aws-sam-translator turns it into CloudFormation, with AWS and
the network out of reach (the translator needs a region, never a call)."""

from __future__ import annotations

import copy
import socket
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
# What `sam deploy` does to a local CodeUri before CloudFormation sees it: upload, then point there.
UPLOADED_CODE = "s3://artifacts-bucket/manga-assist-lambda.zip"
OFFLINE_AWS = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


class NoManagedPolicies:
    """Stands in for samtranslator's ManagedPolicyLoader, which lists IAM policies over the network.
    The template names no managed policy, so the map is never consulted for one."""

    def load(self) -> dict[str, str]:
        return {}


def _refuse_network(*args: Any, **_: Any) -> None:
    raise AssertionError(f"network use during an offline check: {args!r}")


def offline(patch: pytest.MonkeyPatch) -> None:
    for name, value in OFFLINE_AWS.items():
        patch.setenv(name, value)
    patch.delenv("AWS_PROFILE", raising=False)
    patch.setattr(socket.socket, "connect", _refuse_network)
    patch.setattr(socket, "create_connection", _refuse_network)
    patch.setattr(socket, "getaddrinfo", _refuse_network)


@cache
def sam_template() -> dict[str, Any]:
    return yaml_parse(TEMPLATE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def functions() -> dict[str, dict[str, Any]]:
    """Logical id -> properties of each AWS::Serverless::Function."""
    resources = sam_template()["Resources"]
    return {
        name: resource["Properties"]
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


@pytest.fixture(scope="session")
def translated_template() -> dict[str, Any]:
    template = copy.deepcopy(sam_template())
    template["Globals"]["Function"]["CodeUri"] = UPLOADED_CODE
    with pytest.MonkeyPatch.context() as patch:
        offline(patch)
        translated: dict[str, Any] = transform(template, {}, NoManagedPolicies())
        return translated


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    offline(monkeypatch)
