"""The rule for reaching AWS or a local stand-in, applied for one command and then put back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from entrypoints.aws_access import reaching_aws


def test_a_command_leaves_the_environment_as_it_found_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://elsewhere:1")
    before = dict(os.environ)
    with reaching_aws("http://127.0.0.1:5000") as endpoint:
        assert endpoint == "http://127.0.0.1:5000"
        for service in ("DYNAMODB", "DYNAMODB_STREAMS", "SQS"):
            assert os.environ[f"AWS_ENDPOINT_URL_{service}"] == "http://127.0.0.1:5000"
        assert os.environ["AWS_ACCESS_KEY_ID"] == "local"  # nothing real reached, none of our own
    assert dict(os.environ) == before
