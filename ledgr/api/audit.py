"""The audit log: who issued, revoked or changed what (issue 6 "Auth"), as JSON lines via structlog.

One line per event, e.g.::

    {"event": "credential.issued", "actor": "token:3f9c0d2a7b1e4c55", "issuer": "did:ledgr:…",
     "credentialId": "urn:uuid:…", "cryptosuite": "eddsa-rdfc-2022", "outcome": "ok",
     "timestamp": "2026-11-25T09:00:00Z"}

It records identities and identifiers only: never credential contents (claims, subjects, proofs) and
never secrets. That is enforced, not just promised: fields must come from a fixed allow-list of names,
values must be short scalars (or lists of them), and any value that looks like a bearer token
(``ledgr_…``) or a Multikey secret (``z3u2…``) is refused as a programming error. The file is opened in
append mode and each line flushed; :meth:`AuditLog.reopen` supports external log rotation.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import structlog

from ledgr.api.tokens import Principal
from ledgr.errors import InvariantViolation, StorageError
from ledgr.node.keystore import format_time

__all__ = ["AuditLog", "actor_of", "redact"]

EVENTS = frozenset({
    "credential.issued", "credential.status-changed", "status-list.created",
    "did.created", "did.updated", "did.deactivated",
    "token.created", "token.revoked",
    "issuer.created", "issuer.imported", "issuer.key-rotated",
    "auth.denied",
})
FIELDS = frozenset({
    "issuer", "did", "credentialId", "cryptosuite", "statusList", "statusListIndex", "statusPurpose",
    "status", "tokenId", "scopes", "label", "expires", "verificationMethod", "operationHash",
    "outcome", "reason", "method", "path", "remote", "requestId",
})
MAX_VALUE_CHARS = 512
MAX_LIST_ITEMS = 64
_SECRET_LIKE = re.compile(r"ledgr_[0-9a-f]{16}_|\bz3u2[1-9A-HJ-NP-Za-km-z]{20,}")

Scalar = str | int | bool | None


def redact(value: str) -> str:
    """A client-supplied string made safe to log: secret-looking parts replaced, length capped."""
    return _SECRET_LIKE.sub("[redacted]", value)[:MAX_VALUE_CHARS]


def actor_of(principal: Principal | None, fallback: str = "anonymous") -> str:
    """How the log names who acted: ``token:<id>`` (never the secret) or e.g. ``cli:<user>``."""
    return f"token:{principal.token_id}" if principal is not None else fallback


class AuditLog:
    """Append-only JSON-lines audit log at ``path`` (thread-safe; one flush per event)."""

    def __init__(self, path: Path, *, now: Callable[[], datetime]) -> None:
        self.path = Path(path)
        self._now = now
        self._lock = threading.Lock()
        self._file: TextIO = self._open()
        self._logger = structlog.wrap_logger(
            structlog.WriteLogger(self._file),
            processors=[structlog.processors.JSONRenderer(sort_keys=True)],
            cache_logger_on_first_use=False,
        )

    def record(self, event: str, *, actor: str, **fields: Scalar | list[Scalar] | tuple[Scalar, ...]) -> None:
        """Append one event; raises :class:`InvariantViolation` for fields that could leak data."""
        if event not in EVENTS:
            raise InvariantViolation(f"unknown audit event {event!r}")
        clean: dict[str, Any] = {"actor": _check_value("actor", actor)}
        for name, value in fields.items():
            if name not in FIELDS:
                raise InvariantViolation(f"audit field {name!r} is not on the allow-list")
            if isinstance(value, list | tuple):
                if len(value) > MAX_LIST_ITEMS:
                    raise InvariantViolation(f"audit field {name!r} has too many items")
                clean[name] = [_check_value(name, item) for item in value]
            else:
                clean[name] = _check_value(name, value)
        clean["timestamp"] = format_time(self._now())
        with self._lock:
            try:
                self._logger.info(event, **clean)
                self._file.flush()
            except OSError as exc:
                raise StorageError(f"cannot write the audit log {self.path}: {exc.strerror}") from exc

    def reopen(self) -> None:
        """Reopen the file (after logrotate moved it)."""
        with self._lock:
            old, self._file = self._file, self._open()
            self._logger = structlog.wrap_logger(
                structlog.WriteLogger(self._file),
                processors=[structlog.processors.JSONRenderer(sort_keys=True)],
                cache_logger_on_first_use=False,
            )
            old.close()

    def close(self) -> None:
        with self._lock:
            self._file.close()

    def _open(self) -> TextIO:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return open(self.path, "a", encoding="utf-8")
        except OSError as exc:
            raise StorageError(f"cannot open the audit log {self.path}: {exc.strerror}") from exc


def _check_value(name: str, value: Any) -> Scalar:
    if value is None or isinstance(value, bool | int):
        return value
    if not isinstance(value, str):
        raise InvariantViolation(f"audit field {name!r} must be a string, number, boolean or null")
    if len(value) > MAX_VALUE_CHARS:
        raise InvariantViolation(f"audit field {name!r} is longer than {MAX_VALUE_CHARS} characters")
    if _SECRET_LIKE.search(value):
        raise InvariantViolation(f"audit field {name!r} looks like a secret; log ids, never secrets")
    return value
