"""Verifiable Credentials (pure): W3C VC Data Model 2.0/1.1 with Data Integrity proofs.

The public API that the CLI and the HTTP layer use (see ``docs/vc.md``)::

    from ledgr.vc import issue, verify
    signed = issue(credential, secret_key="z3u2…", suite="eddsa-rdfc-2022", created="2026-01-01T00:00:00Z")
    result = verify(signed, now=datetime.now(UTC))
    result.verified, result.to_json()

Nothing here reads the clock or the network: time, keys, DID documents, status lists and schemas
come in as arguments or through caller-supplied functions.
"""

from ledgr.vc.issue import issue
from ledgr.vc.presentation import create_presentation, sign_presentation
from ledgr.vc.proofs import SUPPORTED_SUITES
from ledgr.vc.results import CHECKS, CheckResult, Notice, VerificationResult
from ledgr.vc.status_list import StatusList, build_status_entry, build_status_list_credential
from ledgr.vc.verify import verify

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
