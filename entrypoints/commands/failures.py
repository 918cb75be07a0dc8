"""Expected failures of a command, each told in one line instead of a traceback: AWS or a local
server out of reach, no credentials, a missing table or session, a reader that stopped reading.
A traceback is kept for what nobody expected: a bug."""

from __future__ import annotations


class CommandFailure(Exception):
    """A failure whose message is the whole story for the person at the terminal."""


def explain(error: BaseException) -> str | None:
    """One line for an expected failure; None for anything else (a bug: keep its traceback)."""
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
    )

    from domain.errors import SessionNotFound
    from entrypoints.aws_access import NO_CREDENTIALS, NoAwsCredentials

    if isinstance(error, CommandFailure | NoAwsCredentials):
        return str(error)
    if isinstance(error, NoCredentialsError):
        return NO_CREDENTIALS
    if isinstance(error, NoRegionError):
        return "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION)"
    if isinstance(error, EndpointConnectionError):
        return f"cannot reach {error.kwargs.get('endpoint_url')}: is it running?"
    if isinstance(error, SessionNotFound):
        return f"no such session: {error}"
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        if code == "ResourceNotFoundException":
            return f"{message or 'not found'} (does the table exist? `manga-assist create-table` makes it)"
        if code in ("UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException"):
            return f"AWS refused the credentials: {message or code}"
        if code in ("AccessDeniedException", "AccessDenied"):
            return f"AWS denied access: {message or code}"
        return None
    cause = error.__cause__ or error.__context__
    return explain(cause) if cause is not None and cause is not error else None
