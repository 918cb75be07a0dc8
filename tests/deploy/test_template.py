"""template.yaml, checked offline as CI checks it: aws-sam-translator's transform, then cfn-lint on its
output (cfn-lint alone misses SAM mistakes); and the template against the code it deploys."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import cfnlint.api
import pytest

from deploy import package
from tests.deploy.conftest import OFFLINE_AWS, ROOT, TEMPLATE, functions, sam_template

# cfn-lint findings accepted, each with its reason. Errors never are; none is needed today.
ALLOWED_WARNINGS: dict[str, str] = {}

PROTOCOL_FUNCTIONS = {
    "connect", "message", "disconnect", "turn_writer", "summary_generator", "session_cleanup", "handoff",
    "authorizer",
}  # fmt: skip


# Entrypoints of issue 5, written after this template: their import test fails until they land.
def findings(template_text: str) -> list[str]:
    return [
        f"{match.rule.id} {match.message} (line {match.linenumber})"
        for match in cfnlint.api.lint(template_text, regions=["us-east-1"])
        if match.rule.id[0] in "EW" and match.rule.id not in ALLOWED_WARNINGS
    ]


@pytest.mark.usefixtures("no_network")
def test_translated_template_passes_cfn_lint(translated_template: dict[str, Any]) -> None:
    assert findings(json.dumps(translated_template)) == []


@pytest.mark.usefixtures("no_network")
def test_template_as_written_passes_cfn_lint() -> None:
    assert findings(TEMPLATE.read_text(encoding="utf-8")) == []


def test_translation_keeps_every_function_and_no_managed_policy_but_basic_logging(
    translated_template: dict[str, Any],
) -> None:
    resources = translated_template["Resources"]
    lambdas = {name for name, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    assert lambdas == set(functions())
    for name in lambdas:
        role = resources[f"{name}Role"]["Properties"]
        assert role["ManagedPolicyArns"] == [
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
        ], f"{name}: a managed policy grants more than this function uses"


def test_functions_are_the_protocol_s_eight_on_the_runtime_the_package_is_built_for() -> None:
    modules = {
        props["Handler"].removeprefix("entrypoints.").removesuffix(".handler")
        for props in functions().values()
    }
    assert modules == PROTOCOL_FUNCTIONS
    defaults = sam_template()["Globals"]["Function"]
    assert defaults["Runtime"] == f"python{package.PYTHON_VERSION}"
    assert defaults["Architectures"] == ["arm64"] and "aarch64" in package.PLATFORM
    assert defaults["CodeUri"] == "build/lambda"


def _handler_cases() -> list[Any]:
    return [pytest.param(props["Handler"], id=name) for name, props in sorted(functions().items())]


NO_NETWORK_IMPORT = """
import importlib, socket, sys
def refuse(*a, **k): raise AssertionError("network use at import")
socket.socket.connect = socket.create_connection = socket.getaddrinfo = refuse
module, _, name = sys.argv[1].rpartition(".")
handler = getattr(importlib.import_module(module), name)
assert callable(handler), sys.argv[1]
"""


@pytest.mark.parametrize("handler", _handler_cases())
def test_handler_resolves_to_a_callable_imported_without_network(handler: str) -> None:
    """In a fresh interpreter, as Lambda would: nothing cached by other tests hides a broken import."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(OFFLINE_AWS, SESSION_STORE="memory", LLM_PROVIDER="fake", PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", NO_NETWORK_IMPORT, handler],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
