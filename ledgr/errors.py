"""The one exception tree of ledgr.

Every error a user can cause is a :class:`LedgrError` with a stable machine ``code`` (kebab-case,
never renamed once released), an ``http_status`` hint and a message that says what was wrong with
the input. The edges translate these once: ``ledgr.api`` renders RFC 9457 problem+json
(``type`` = ``https://ledgr.dev/problems/<code>``), the CLI prints one line and exits non-zero.
Cores raise; they never know about HTTP or exit codes (the h11 ``error_status_hint`` pattern).

Broken internal invariants are :class:`InvariantViolation`, which is deliberately *not* a
``LedgrError``: it is a bug, never caught and shown as a client mistake.

Tree::

    LedgrError
      InvalidInput (400)                bad syntax or shape of a request/document
        InvalidEncoding                 multibase/base58/base64/JSON decoding failed
        InvalidKey                      key bytes/multikey/JWK unusable
        InvalidDid                      DID or DID URL syntax
        InvalidDocument                 JSON-LD / credential / presentation structure
          UnknownContext                a context URL not bundled nor registered
          UnmappedTerm                  JSON-LD safe mode: a term maps to no IRI
        TooLarge (413)                  an input exceeds a size/count limit
      Unprocessable (422)               well-formed but semantically rejected
        VerificationFailed              a proof, signature or check failed
        OperationRejected               a ledger operation broke a rule (see ``rule``)
        UnsupportedSuite                unknown cryptosuite / proof type
        UnsupportedDidMethod (501)      DID method this node cannot resolve
      Unauthorized (401)                no or invalid credentials (API token)
      Forbidden (403)                   authenticated but not allowed
      NotFound (404)
        DidNotFound
      Gone (410)
        DidDeactivated
      Conflict (409)                    compare-and-set / duplicate / stale ``prev``
      RateLimited (429)
      Unavailable (503)                 no quorum, catching up, shutting down
      ConfigError (exit 2)              operator configuration is wrong
      StorageError (500)                the store is unusable or corrupt
        IntegrityError                  a stored block, QC or root does not verify
      PeerError                         a peer misbehaved or could not be authenticated
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConfigError",
    "Conflict",
    "DidDeactivated",
    "DidNotFound",
    "Forbidden",
    "Gone",
    "IntegrityError",
    "InvalidDid",
    "InvalidDocument",
    "InvalidEncoding",
    "InvalidInput",
    "InvalidKey",
    "InvariantViolation",
    "LedgrError",
    "NotFound",
    "OperationRejected",
    "PeerError",
    "RateLimited",
    "StorageError",
    "TooLarge",
    "Unauthorized",
    "Unavailable",
    "UnknownContext",
    "UnmappedTerm",
    "Unprocessable",
    "UnsupportedDidMethod",
    "UnsupportedSuite",
    "VerificationFailed",
]


class LedgrError(Exception):
    """Base of every error a caller can cause or observe.

    ``code`` is stable and machine-readable; ``detail`` is the human sentence saying what was wrong;
    ``extra`` holds structured fields (e.g. ``rule``, ``term``, ``limit``) that the HTTP edge adds as
    RFC 9457 extension members.
    """

    code: str = "ledgr-error"
    title: str = "ledgr error"
    http_status: int = 500

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra: dict[str, Any] = extra

    def to_problem(self) -> dict[str, Any]:
        """RFC 9457 §3 members for this error (the HTTP edge adds ``instance``)."""
        problem: dict[str, Any] = {
            "type": f"https://ledgr.dev/problems/{self.code}",
            "title": self.title,
            "status": self.http_status,
            "detail": self.detail,
            "code": self.code,
        }
        for key, value in self.extra.items():
            problem.setdefault(key, value)
        return problem


class InvalidInput(LedgrError):
    code = "invalid-input"
    title = "Invalid input"
    http_status = 400


class InvalidEncoding(InvalidInput):
    code = "invalid-encoding"
    title = "Invalid encoding"


class InvalidKey(InvalidInput):
    code = "invalid-key"
    title = "Invalid key"


class InvalidDid(InvalidInput):
    code = "invalid-did"
    title = "Invalid DID"


class InvalidDocument(InvalidInput):
    code = "invalid-document"
    title = "Invalid document"


class UnknownContext(InvalidDocument):
    code = "unknown-context"
    title = "Unknown JSON-LD context"


class UnmappedTerm(InvalidDocument):
    code = "unmapped-term"
    title = "JSON-LD term maps to no IRI"


class TooLarge(InvalidInput):
    code = "too-large"
    title = "Input too large"
    http_status = 413


class Unprocessable(LedgrError):
    code = "unprocessable"
    title = "Unprocessable input"
    http_status = 422


class VerificationFailed(Unprocessable):
    code = "verification-failed"
    title = "Verification failed"


class OperationRejected(Unprocessable):
    """A ledger operation broke a rule; ``rule`` (in ``extra``) names it."""

    code = "operation-rejected"
    title = "Operation rejected"


class UnsupportedSuite(Unprocessable):
    code = "unsupported-suite"
    title = "Unsupported cryptosuite"


class UnsupportedDidMethod(Unprocessable):
    code = "unsupported-did-method"
    title = "Unsupported DID method"
    http_status = 501


class Unauthorized(LedgrError):
    code = "unauthorized"
    title = "Unauthorized"
    http_status = 401


class Forbidden(LedgrError):
    code = "forbidden"
    title = "Forbidden"
    http_status = 403


class NotFound(LedgrError):
    code = "not-found"
    title = "Not found"
    http_status = 404


class DidNotFound(NotFound):
    code = "did-not-found"
    title = "DID not found"


class Gone(LedgrError):
    code = "gone"
    title = "Gone"
    http_status = 410


class DidDeactivated(Gone):
    code = "did-deactivated"
    title = "DID deactivated"


class Conflict(LedgrError):
    code = "conflict"
    title = "Conflict"
    http_status = 409


class RateLimited(LedgrError):
    code = "rate-limited"
    title = "Too many requests"
    http_status = 429


class Unavailable(LedgrError):
    code = "unavailable"
    title = "Service unavailable"
    http_status = 503


class ConfigError(LedgrError):
    code = "config-error"
    title = "Configuration error"
    http_status = 500


class StorageError(LedgrError):
    code = "storage-error"
    title = "Storage error"
    http_status = 500


class IntegrityError(StorageError):
    code = "integrity-error"
    title = "Integrity check failed"


class PeerError(LedgrError):
    code = "peer-error"
    title = "Peer error"
    http_status = 502


class InvariantViolation(Exception):
    """An internal invariant broke: a bug, never a client mistake. Not caught by error edges."""
