"""Session cleanup: when the TTL service removes an idle session's META item, delete what remains
of the session and close its live connection, if any."""

from __future__ import annotations

import logging
from contextlib import suppress

from application.errors import ConnectionGone
from application.events import SessionExpired
from application.ports import Notifier, SessionStore

log = logging.getLogger(__name__)


class ExpireSession:
    """``SessionExpired``: delete what remains of the session and close its connection."""

    def __init__(self, repo: SessionStore, notifier: Notifier) -> None:
        self._repo = repo
        self._notifier = notifier

    def __call__(self, event: SessionExpired) -> int:
        deleted = self._repo.delete_session(event.session_id)
        if event.connection_id:
            with suppress(ConnectionGone):
                self._notifier.close(event.connection_id)
        return deleted
