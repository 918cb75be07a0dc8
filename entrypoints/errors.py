"""Errors of the transports: input that is not a request at all (not JSON, not an object, an unknown
action, a field of the wrong type). They are no rule of the conversation, so not domain errors;
``entrypoints.responses.ERROR_TABLE`` maps them with the others."""


class BadRequest(Exception):
    """The request is malformed."""


class RequestTooLarge(BadRequest):
    """The request is larger than any legal one."""
