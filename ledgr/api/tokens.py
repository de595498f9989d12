"""Bearer API tokens: created and revoked by an admin, stored hashed, scoped (issue 6 "Auth").

A token is ``ledgr_<id>_<secret>``: the ``ledgr_`` prefix lets secret scanners recognise a leaked token,
``<id>`` (16 hex characters) is the public handle used in listings and the audit log, and ``<secret>`` is
256 bits from the OS CSPRNG (base64url). The store keeps only SHA-256 of the whole token; a presented
token is looked up by its id and its hash compared in constant time (``hmac.compare_digest``). A 256-bit
secret needs no slow hash: there is nothing to brute-force.

Scopes (least privilege; none implies another):

- ``issue:<did>``   sign credentials as issuer ``<did>`` (never as any other issuer);
- ``status:<did>``  revoke/suspend/unsuspend entries of ``<did>``'s status lists; ``status`` for all;
- ``read``          resolve and verify when the node is configured to make those private;
- ``admin``         manage tokens, issuers, keys and registrar DIDs.

The store is one JSON file (atomic replace + fsync under a file lock, shared with the keystore's helpers),
re-read when its size or mtime changes, so tokens the CLI creates or revokes take effect on a running node
at its next request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from ledgr.did.syntax import is_did
from ledgr.errors import Conflict, IntegrityError, InvalidInput, NotFound, Unauthorized, Unprocessable
from ledgr.node.keystore import file_lock, format_time, read_file_bounded, write_file_atomic

__all__ = ["PRINCIPAL_KEY", "Principal", "TokenRecord", "TokenStore", "hash_token", "parse_scope"]

TOKEN_PREFIX = "ledgr_"
TOKENS_FILE = "tokens.json"
FORMAT = "ledgr-tokens"
VERSION = 1
ID_HEX_CHARS = 16
SECRET_BYTES = 32
_SECRET_CHARS = 43  # base64url without padding of 32 bytes
TOKEN_CHARS = len(TOKEN_PREFIX) + ID_HEX_CHARS + 1 + _SECRET_CHARS
_TOKEN_RE = re.compile(rf"^{TOKEN_PREFIX}([0-9a-f]{{{ID_HEX_CHARS}}})_([A-Za-z0-9_-]{{{_SECRET_CHARS}}})$")
MAX_TOKENS = 100_000
MAX_SCOPES = 64
MAX_LABEL_CHARS = 64
MAX_FILE_BYTES = 64 * 1024 * 1024

SCOPE_ADMIN = "admin"
SCOPE_STATUS = "status"
SCOPE_READ = "read"
_BARE_SCOPES = {SCOPE_ADMIN, SCOPE_STATUS, SCOPE_READ}
_DID_SCOPES = {"issue", "status"}

RandomBytes = Callable[[int], bytes]


def parse_scope(scope: str) -> str:
    """Validate one scope string and return it; raises :class:`InvalidInput` naming the problem."""
    if not isinstance(scope, str) or len(scope) > 2100:
        raise InvalidInput("a scope is a short string")
    if scope in _BARE_SCOPES:
        return scope
    kind, sep, did = scope.partition(":")
    if sep and kind in _DID_SCOPES:
        if not is_did(did):
            raise InvalidInput(f"scope {scope!r}: {did!r} is not a DID")
        return scope
    raise InvalidInput(f"unknown scope {scope!r} (use admin, read, status, status:<did> or issue:<did>)")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: the token's public id and scopes (never the secret)."""

    token_id: str
    scopes: frozenset[str]
    label: str = ""

    def has(self, scope: str) -> bool:
        if scope in self.scopes:
            return True
        if scope == "issue":
            return any(s.startswith("issue:") for s in self.scopes)
        if scope == SCOPE_STATUS:
            return any(s.startswith("status:") for s in self.scopes)
        return False

    def can_issue_as(self, did: str) -> bool:
        return f"issue:{did}" in self.scopes

    def can_change_status_of(self, did: str) -> bool:
        return SCOPE_STATUS in self.scopes or f"status:{did}" in self.scopes


# The request key under which the auth middleware stores the :class:`Principal` of a request.
PRINCIPAL_KEY = web.RequestKey("ledgr.principal", Principal)


@dataclass(frozen=True)
class TokenRecord:
    id: str
    label: str
    scopes: tuple[str, ...]
    created: str
    expires: str | None = None
    revoked: str | None = None
    token_hash: str = field(default="", repr=False)

    def state(self, now: datetime) -> str:
        if self.revoked is not None:
            return "revoked"
        if self.expires is not None and self.expires <= format_time(now):
            return "expired"
        return "active"

    def public_json(self, now: datetime) -> dict[str, Any]:
        """What listings show: everything but the hash."""
        return {"id": self.id, "label": self.label, "scopes": list(self.scopes), "created": self.created,
                "expires": self.expires, "revoked": self.revoked, "state": self.state(now)}

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "scopes": list(self.scopes), "created": self.created,
                "expires": self.expires, "revoked": self.revoked, "sha256": self.token_hash}

    @classmethod
    def from_json(cls, value: Any) -> TokenRecord:
        try:
            record = cls(value["id"], value["label"], tuple(value["scopes"]), value["created"],
                         value.get("expires"), value.get("revoked"), value["sha256"])
        except (KeyError, TypeError) as exc:
            raise IntegrityError("token store holds a malformed record") from exc
        if not re.fullmatch(r"[0-9a-f]{64}", record.token_hash) or not re.fullmatch(
                rf"[0-9a-f]{{{ID_HEX_CHARS}}}", record.id):
            raise IntegrityError(f"token store record {record.id!r} is malformed")
        return record


class TokenStore:
    """The file-backed token store of one node data directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._records: dict[str, TokenRecord] = {}
        self._stamp: tuple[int, int, int] | None = None

    @property
    def path(self) -> Path:
        return self.directory / TOKENS_FILE

    # -- reads

    def reload_if_changed(self) -> None:
        """Re-read the file when another process changed it (cheap: one ``stat`` when unchanged)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self._records, self._stamp = {}, None
            return
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        if stamp != self._stamp:
            self._records = self._read()
            self._stamp = stamp

    def list(self) -> list[TokenRecord]:
        self.reload_if_changed()
        return sorted(self._records.values(), key=lambda r: (r.created, r.id))

    def get(self, token_id: str) -> TokenRecord:
        self.reload_if_changed()
        record = self._records.get(token_id)
        if record is None:
            raise NotFound(f"no token {token_id}")
        return record

    def authenticate(self, token: str, now: datetime) -> Principal:
        """The principal of a presented bearer token, or :class:`Unauthorized` saying why not."""
        match = _TOKEN_RE.match(token) if isinstance(token, str) and len(token) == TOKEN_CHARS else None
        if match is None:
            raise Unauthorized("the bearer token is malformed", reason="invalid_token")
        self.reload_if_changed()
        record = self._records.get(match.group(1))
        presented = hash_token(token)
        expected = record.token_hash if record is not None else "0" * 64
        if not hmac.compare_digest(presented, expected) or record is None:
            raise Unauthorized("the bearer token is not valid", reason="invalid_token")
        state = record.state(now)
        if state != "active":
            raise Unauthorized(f"the bearer token is {state}", reason="invalid_token")
        return Principal(record.id, frozenset(record.scopes), record.label)

    # -- changes

    def create(self, scopes: Iterable[str], *, label: str, now: datetime,
               expires_in: timedelta | None = None,
               random_bytes: RandomBytes = os.urandom) -> tuple[str, TokenRecord]:
        """A new token: returns the full token string (shown once, never stored) and its record."""
        scope_list = sorted({parse_scope(s) for s in scopes})
        if not scope_list:
            raise InvalidInput("a token needs at least one scope")
        if len(scope_list) > MAX_SCOPES:
            raise InvalidInput(f"a token has at most {MAX_SCOPES} scopes")
        label = label.strip()
        if not label or len(label) > MAX_LABEL_CHARS or not label.isprintable():
            raise InvalidInput(f"a token label is 1-{MAX_LABEL_CHARS} printable characters")
        if expires_in is not None and expires_in <= timedelta(0):
            raise InvalidInput("a token's lifetime must be positive")
        token_id = random_bytes(ID_HEX_CHARS // 2).hex()
        secret = _b64url(random_bytes(SECRET_BYTES))
        token = f"{TOKEN_PREFIX}{token_id}_{secret}"
        if not _TOKEN_RE.match(token):
            raise InvalidInput("random source returned the wrong number of bytes")
        record = TokenRecord(token_id, label, tuple(scope_list), format_time(now),
                             format_time(now + expires_in) if expires_in is not None else None, None,
                             hash_token(token))
        with self._locked():
            records = self._read()
            if token_id in records:
                raise Conflict("token id collision; try again")
            if len(records) >= MAX_TOKENS:
                raise Unprocessable(f"the token store already holds {MAX_TOKENS} tokens")
            records[token_id] = record
            self._write(records)
        return token, record

    def revoke(self, token_id: str, *, now: datetime) -> TokenRecord:
        """Mark a token revoked (kept for the audit trail); revoking twice is a :class:`Conflict`."""
        with self._locked():
            records = self._read()
            record = records.get(token_id)
            if record is None:
                raise NotFound(f"no token {token_id}")
            if record.revoked is not None:
                raise Conflict(f"token {token_id} was already revoked on {record.revoked}")
            record = TokenRecord(record.id, record.label, record.scopes, record.created, record.expires,
                                 format_time(now), record.token_hash)
            records[token_id] = record
            self._write(records)
        return record

    # -- internals

    def _read(self) -> dict[str, TokenRecord]:
        try:
            data = read_file_bounded(self.path, MAX_FILE_BYTES)
        except FileNotFoundError:
            return {}
        try:
            doc = json.loads(data)
        except ValueError as exc:
            raise IntegrityError(f"token store {self.path} is not valid JSON") from exc
        if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("version") != VERSION:
            raise IntegrityError(f"{self.path} is not a version {VERSION} ledgr token store")
        tokens = doc.get("tokens")
        if not isinstance(tokens, list):
            raise IntegrityError(f"token store {self.path} is malformed")
        records = [TokenRecord.from_json(item) for item in tokens]
        return {record.id: record for record in records}

    def _write(self, records: dict[str, TokenRecord]) -> None:
        doc = {"format": FORMAT, "version": VERSION,
               "tokens": [r.to_json() for r in sorted(records.values(), key=lambda r: (r.created, r.id))]}
        write_file_atomic(self.path, json.dumps(doc, indent=1, sort_keys=True).encode())
        self._records = records
        self._stamp = None

    def _locked(self) -> Any:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        return file_lock(self.directory / ".tokens.lock")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
