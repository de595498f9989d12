"""Verifiable Credentials (pure): W3C VC Data Model 2.0/1.1 with Data Integrity proofs.

The public API that the CLI and the HTTP layer use (see ``docs/vc.md``)::

    from ledgr.vc import issue, verify
    signed = issue(credential, secret_key="z3u2…", suite="eddsa-rdfc-2022", created="2026-01-01T00:00:00Z")
    result = verify(signed)                  # now = the current time
    result = verify(signed, now=some_datetime)  # deterministic
    result.verified, result.to_json()

Nothing in ``ledgr.vc`` reads the network: keys, DID documents, status lists and schemas come in as
arguments or through caller-supplied functions. The clock is read in exactly one place, the
convenience :func:`verify` below when no ``now`` is given (the Fernet ``encrypt`` /
``encrypt_at_time`` split); :func:`ledgr.vc.verify.verify` is the pure variant, which fails closed
(reason ``no-time``) when a date has to be compared and no ``now`` was passed.
"""

from datetime import UTC, datetime
from typing import Any

from ledgr.vc import verify as _pure
from ledgr.vc.controllers import DidResolver
from ledgr.vc.issue import issue
from ledgr.vc.loader import DocumentLoader
from ledgr.vc.presentation import create_presentation, sign_presentation
from ledgr.vc.proofs import SUPPORTED_SUITES
from ledgr.vc.results import CHECKS, CheckResult, Notice, VerificationResult
from ledgr.vc.schema import SchemaResolver
from ledgr.vc.status_list import StatusList, build_status_entry, build_status_list_credential

__all__ = [
    "CHECKS",
    "SUPPORTED_SUITES",
    "CheckResult",
    "Notice",
    "StatusList",
    "VerificationResult",
    "build_status_entry",
    "build_status_list_credential",
    "create_presentation",
    "issue",
    "sign_presentation",
    "verify",
]


def verify(document: dict[str, Any], *, checks: list[str] | None = None, now: datetime | None = None,
           resolver: DidResolver | None = None,
           status_list_fetcher: _pure.StatusListFetcher | None = None,
           schema_resolver: SchemaResolver | None = None, challenge: str | None = None,
           domain: str | None = None, loader: DocumentLoader | None = None) -> VerificationResult:
    """Verify a credential or presentation at ``now`` (default: the current time, UTC).

    Checks and results are those of :func:`ledgr.vc.verify.verify` (VC Data Model 2.0 §4.9,
    VC Data Integrity §4.3); this wrapper only supplies the time, so a caller that omits ``now``
    gets today's validity decision rather than a fail-closed ``no-time`` result.
    """
    return _pure.verify(document, checks=checks, now=now if now is not None else datetime.now(UTC),
                        resolver=resolver, status_list_fetcher=status_list_fetcher,
                        schema_resolver=schema_resolver, challenge=challenge, domain=domain,
                        loader=loader)
