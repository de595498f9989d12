"""Structured verification results (in the spirit of the W3C VC API ``/credentials/verify`` response).

A result says *what* was checked and *why* it failed, with the stable machine codes of
:mod:`ledgr.errors`: ``{"verified": bool, "checks": [...], "warnings": [...], "errors": [...]}``.
``verified`` is true only when at least one check ran and every check (and, for a presentation,
every embedded credential) verified, so a result is never vacuously true.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledgr.errors import LedgrError

CHECKS: tuple[str, ...] = ("proof", "validity", "schema", "status", "issuer-binding")


@dataclass(frozen=True, slots=True)
class Notice:
    """A warning: something a verifier should know that did not make verification fail."""

    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def error_json(error: LedgrError) -> dict[str, Any]:
    """One error: ``code``, ``message``, the RFC 9457 ``type``/``title`` (as the VC API's
    ProblemDetails carry them) and the structured extras (``reason``, ``property``, …)."""
    out: dict[str, Any] = {"code": error.code, "message": error.detail,
                           "type": f"https://ledgr.dev/problems/{error.code}", "title": error.title}
    for key, value in error.extra.items():
        out.setdefault(key, value)
    return out


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One named check (one of :data:`CHECKS`) with its errors and check-specific ``details``."""

    name: str
    verified: bool
    errors: tuple[LedgrError, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"check": self.name, "verified": self.verified,
                               "errors": [error_json(error) for error in self.errors]}
        out.update(self.details)
        return out


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """The outcome of :func:`ledgr.vc.verify` for a credential or a presentation.

    ``errors`` holds document-level faults (e.g. not a credential at all) that stopped the checks.
    ``credential_results`` holds one result per credential embedded in a presentation.
    """

    verified: bool
    document_type: str
    checks: tuple[CheckResult, ...] = ()
    warnings: tuple[Notice, ...] = ()
    errors: tuple[LedgrError, ...] = ()
    credential_results: tuple[VerificationResult, ...] = ()

    def check(self, name: str) -> CheckResult | None:
        """The result of the check ``name``, or None when it did not run."""
        return next((check for check in self.checks if check.name == name), None)

    def all_errors(self) -> list[LedgrError]:
        """Every error of this result, its checks and its embedded credentials, in order."""
        errors = list(self.errors)
        for check in self.checks:
            errors.extend(check.errors)
        for credential in self.credential_results:
            errors.extend(credential.all_errors())
        return errors

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "verified": self.verified,
            "type": self.document_type,
            "checks": [check.to_json() for check in self.checks],
            "warnings": [warning.to_json() for warning in self.warnings],
            "errors": [error_json(error) for error in self.all_errors()],
        }
        if self.document_type == "VerifiablePresentation":
            out["credentialResults"] = [result.to_json() for result in self.credential_results]
        return out


def failed(document_type: str, error: LedgrError) -> VerificationResult:
    """A result for a document that could not be checked at all."""
    return VerificationResult(False, document_type, errors=(error,))


def combine(document_type: str, checks: list[CheckResult], warnings: list[Notice],
            credential_results: list[VerificationResult] | None = None) -> VerificationResult:
    credential_results = credential_results or []
    ran_any = bool(checks) or bool(credential_results)
    verified = (ran_any and all(check.verified for check in checks)
                and all(result.verified for result in credential_results))
    return VerificationResult(verified, document_type, tuple(checks), tuple(warnings),
                              credential_results=tuple(credential_results))
