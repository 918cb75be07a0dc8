"""Every environment variable the shipped code reads is set for every function in template.yaml, the
template sets nothing nobody reads, and its parameters default to what the code would do unset."""

from __future__ import annotations

from typing import Any

import pytest

from deploy.package import code_files
from entrypoints.settings import load_settings
from tests.deploy.conftest import ROOT, functions, sam_template
from tests.deploy.environment_reads import names_read

# Read by the code but never set by the template, each with its reason.
PROVIDED_BY_LAMBDA = {
    "AWS_REGION": "set by the Lambda runtime",
    "AWS_DEFAULT_REGION": "set by the Lambda runtime",
    "AWS_LAMBDA_FUNCTION_NAME": "set by the Lambda runtime",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "set by the Lambda runtime",
    "AWS_EXECUTION_ENV": "set by the Lambda runtime",
    "_X_AMZN_TRACE_ID": "set by the Lambda runtime per invocation",
}
LOCAL_ONLY_PREFIXES = {
    "FAKE_LLM_": "pace of the fake model; the template runs Bedrock (LLM_PROVIDER=bedrock)",
    "AWS_ENDPOINT_URL": "boto3's endpoint overrides for moto and local stacks; in AWS the real endpoints",
    "AWS_SHARED_CREDENTIALS_FILE": "the command line's credential rule (entrypoints/aws_access.py) only",
    "AWS_CONFIG_FILE": "the command line's credential rule (entrypoints/aws_access.py) only",
}
# Read by one function's code only: set on exactly those functions (a secret nowhere else).
AUTHORIZER_ONLY = (
    "AUTH_JWKS_URL",
    "AUTH_ISSUER",
    "AUTH_AUDIENCE",
    "AUTH_HS256_SECRET_ARN",
    "AUTH_ALGORITHMS",
)
SCOPED: dict[str, set[str]] = {
    **{name: {"AuthorizerFunction"} for name in (*AUTHORIZER_ONLY, "AUTH_AGENT_GROUP")},
    # The authorizer reads guests' resume tokens back; the message function issues them.
    "AUTH_GUEST_SECRET": {"AuthorizerFunction", "MessageFunction"},
}
NEVER_IN_THE_TEMPLATE = {
    "AUTH_HS256_SECRET": "local runs only: in AWS the secret is read by ARN, never put in an environment",
}
# Unset, the code's default is the protocol's for tests and local runs; the template deploys otherwise.
DEFAULTS_DIFFER = {"AUTH_MODE": "unset means none (tests, local runs); the template deploys jwt or guest"}
# Set by the template, read by libraries rather than by our code.
READ_BY_LIBRARIES = {
    "POWERTOOLS_METRICS_NAMESPACE": "Powertools Metrics: the CloudWatch namespace of our metrics",
    "LOG_LEVEL": "Powertools Logger: the level of every entrypoint's logger (its legacy name, still read)",
    "POWERTOOLS_SERVICE_NAME": "Powertools: the service name on every log line and metric",
}


def exempt(name: str) -> bool:
    return (
        name in PROVIDED_BY_LAMBDA
        or name in SCOPED
        or name in NEVER_IN_THE_TEMPLATE
        or name.startswith(tuple(LOCAL_ONLY_PREFIXES))
    )


def environment_of(function: str) -> dict[str, Any]:
    shared = sam_template()["Globals"]["Function"]["Environment"]["Variables"]
    own = functions()[function].get("Environment", {}).get("Variables", {})
    return {**shared, **own}


@pytest.fixture(scope="module")
def read_by_code() -> dict[str, list[Any]]:
    return names_read(ROOT / path for path in code_files() if path.suffix == ".py")


def test_the_scan_sees_what_settings_reads(read_by_code: dict[str, list[Any]]) -> None:
    expected = {"SESSION_STORE", "SESSION_TABLE", "MODEL_ID", "MAX_CONTEXT_TURNS", "SYSTEM_PROMPT"}
    assert expected <= set(read_by_code)


@pytest.mark.parametrize("function", sorted(functions()))
def test_every_variable_the_code_reads_is_set(function: str, read_by_code: dict[str, list[Any]]) -> None:
    missing = {
        name: [str(p) for p in files]
        for name, files in read_by_code.items()
        if not exempt(name) and name not in environment_of(function)
    }
    assert missing == {}, f"{function}: set these in template.yaml (Globals) or list them here with a reason"


@pytest.mark.parametrize("name", sorted(SCOPED))
def test_a_scoped_variable_is_set_where_it_is_read_and_nowhere_else(
    name: str, read_by_code: dict[str, list[Any]]
) -> None:
    assert name in read_by_code
    assert {f for f in functions() if name in environment_of(f)} == SCOPED[name]


def test_no_function_is_given_what_must_never_be_in_the_template() -> None:
    for function in functions():
        assert not set(environment_of(function)) & set(NEVER_IN_THE_TEMPLATE), function


def test_the_template_sets_nothing_that_nobody_reads(read_by_code: dict[str, list[Any]]) -> None:
    for function in functions():
        unread = set(environment_of(function)) - set(read_by_code) - set(READ_BY_LIBRARIES)
        assert unread == set(), f"{function}: a typo, or a variable the code no longer reads"


def test_parameters_default_to_the_code_s_own_defaults() -> None:
    """Deploying with default parameters behaves like the protocol's defaults (docs/PROTOCOL.md §13)."""
    parameters = sam_template()["Parameters"]
    unset = load_settings({})
    for name, value in environment_of("MessageFunction").items():
        if name in DEFAULTS_DIFFER:
            continue
        if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in parameters:
            default = str(parameters[value["Ref"]]["Default"])
            assert load_settings({name: default}) == unset, f"{name}: parameter default {default!r}"


def test_the_scan_finds_each_way_of_reading_the_environment() -> None:
    from tests.deploy.environment_reads import names_in_source

    source = """
import os
a = os.environ.get("ONE"); b = os.getenv("TWO"); c = os.environ["THREE"]; d = "FOUR" in os.environ
e = _int(env, "FIVE", 3); f = env.get("SIX", ""); config.x.from_env("SEVEN"); log("not_a_NAME", env)
"""
    assert names_in_source(source) == {"ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN"}
