"""The AWS SDK's failures that an operator's command can expect, sorted into kinds, so that the
command line can say each in one line without importing the SDK itself; and whether boto3's
credential chain finds anything at all."""

from __future__ import annotations

from typing import Literal

Kind = Literal["no-credentials", "no-region", "unreachable", "not-found", "credentials-refused", "denied"]

REFUSED_CREDENTIALS = {"UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException"}
DENIED = {"AccessDeniedException", "AccessDenied"}


def aws_failure(error: BaseException) -> tuple[Kind, str] | None:
    """(kind, detail) for an expected SDK failure; None for anything else."""
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError

    if isinstance(error, NoCredentialsError):
        return "no-credentials", ""
    if isinstance(error, NoRegionError):
        return "no-region", ""
    if isinstance(error, EndpointConnectionError):
        return "unreachable", str(error.kwargs.get("endpoint_url"))
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "") or code
        if code == "ResourceNotFoundException":
            return "not-found", message
        if code in REFUSED_CREDENTIALS:
            return "credentials-refused", message
        if code in DENIED:
            return "denied", message
    return None


def credentials_found() -> bool:
    """Whether boto3's chain (variables, files, a container or instance role) finds credentials."""
    import boto3

    return boto3.session.Session().get_credentials() is not None
