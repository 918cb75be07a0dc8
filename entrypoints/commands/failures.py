"""Expected failures of a command, each told in one line instead of a traceback: AWS or a local
server out of reach, no credentials, a missing table or session, a reader that stopped reading.
A traceback is kept for what nobody expected: a bug."""

from __future__ import annotations


class CommandFailure(Exception):
    """A failure whose message is the whole story for the person at the terminal."""


def explain(error: BaseException) -> str | None:
    """One line for an expected failure; None for anything else (a bug: keep its traceback)."""
    from adapters.aws_failures import aws_failure
    from domain.errors import SessionNotFound
    from entrypoints.aws_access import NO_CREDENTIALS, NoAwsCredentials

    if isinstance(error, CommandFailure | NoAwsCredentials):
        return str(error)
    if isinstance(error, SessionNotFound):
        return f"no such session: {error}"
    found = aws_failure(error)
    if found is not None:
        kind, detail = found
        return {
            "no-credentials": NO_CREDENTIALS,
            "no-region": "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION)",
            "unreachable": f"cannot reach {detail}: is it running?",
            "not-found": f"{detail} (does the table exist? `manga-assist create-table` makes it)",
            "credentials-refused": f"AWS refused the credentials: {detail}",
            "denied": f"AWS denied access: {detail}",
        }[kind]
    cause = error.__cause__ or error.__context__
    return explain(cause) if cause is not None and cause is not error else None
