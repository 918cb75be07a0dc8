"""What ``serve`` puts in the environment: never shadowing a developer's own AWS setup."""

from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints.local.environment import ServeOptions, has_credentials, server_environment

LOCAL = ServeOptions(host="127.0.0.1", port=0)


@pytest.fixture
def no_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


@pytest.mark.usefixtures("no_home")
def test_defaults_need_no_aws() -> None:
    changes = server_environment(LOCAL, 8080, {})
    assert changes == {
        "WEBSOCKET_CALLBACK_URL": "http://127.0.0.1:8080",
        "SESSION_STORE": "memory",
        "LLM_PROVIDER": "fake",
        "AUTH_MODE": "guest",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    }


@pytest.mark.parametrize(
    "env",
    [
        {"AWS_ACCESS_KEY_ID": "AKIAREAL", "AWS_SECRET_ACCESS_KEY": "s"},
        {"AWS_PROFILE": "work"},
        {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials"},
    ],
)
@pytest.mark.usefixtures("no_home")
def test_real_credentials_are_never_overridden(env: dict[str, str]) -> None:
    changes = server_environment(LOCAL, 8080, env)
    assert "AWS_ACCESS_KEY_ID" not in changes and "AWS_SECRET_ACCESS_KEY" not in changes


def test_a_credentials_file_counts(no_home: Path) -> None:
    (no_home / ".aws").mkdir()
    (no_home / ".aws" / "credentials").write_text("[default]\n")
    assert has_credentials({}, home=no_home)
    assert "AWS_ACCESS_KEY_ID" not in server_environment(LOCAL, 8080, {})


@pytest.mark.usefixtures("no_home")
def test_real_aws_keeps_the_credential_chain() -> None:
    """On EC2 or ECS the credentials come from metadata: dummy ones would shadow them."""
    for options in (ServeOptions(llm="bedrock"), ServeOptions(store="dynamodb")):
        assert "AWS_ACCESS_KEY_ID" not in server_environment(options, 8080, {})


@pytest.mark.usefixtures("no_home")
def test_dynamodb_at_an_endpoint() -> None:
    options = ServeOptions(store="dynamodb", endpoint_url="http://127.0.0.1:5000")
    changes = server_environment(options, 9000, {"AWS_REGION": "eu-west-1"})
    assert changes["SESSION_STORE"] == "dynamodb"
    # Every client serve makes of the table's family goes there: the table, its stream, the queues.
    for service in ("DYNAMODB", "DYNAMODB_STREAMS", "SQS"):
        assert changes[f"AWS_ENDPOINT_URL_{service}"] == "http://127.0.0.1:5000"
    assert "AWS_ENDPOINT_URL" not in changes  # never the model's
    assert changes["AWS_ACCESS_KEY_ID"] == "local"  # nothing real is reached
    assert "AWS_DEFAULT_REGION" not in changes


@pytest.mark.usefixtures("no_home")
def test_flags_win_and_the_environment_fills_in() -> None:
    env = {"SESSION_STORE": "dynamodb", "LLM_PROVIDER": "bedrock", "AWS_ENDPOINT_URL_DYNAMODB": "http://db"}
    assert ServeOptions().resolved(env) == ServeOptions(
        store="dynamodb", llm="bedrock", endpoint_url="http://db", auth="guest"
    )
    assert ServeOptions(store="memory").resolved(env).store == "memory"
    assert ServeOptions().resolved({"AUTH_MODE": "jwt"}).auth == "jwt"
    assert ServeOptions(auth="none").resolved({"AUTH_MODE": "jwt"}).auth == "none"


@pytest.mark.usefixtures("no_home")
def test_a_wildcard_address_calls_back_on_loopback() -> None:
    assert (
        server_environment(ServeOptions(host="0.0.0.0"), 8080, {})["WEBSOCKET_CALLBACK_URL"]
        == "http://127.0.0.1:8080"
    )
    assert (
        server_environment(ServeOptions(host="::"), 8080, {})["WEBSOCKET_CALLBACK_URL"] == "http://[::1]:8080"
    )
