"""Verifying credentials and presentations: the checks of :data:`ledgr.vc.results.CHECKS`.

``verify(document, …)`` accepts a credential (VC 2.0 or 1.1) or a presentation (``type`` includes
``VerifiablePresentation``) and runs, by default, every check that applies:

- ``proof``: every Data Integrity proof verifies and its verification method is authorized for the
  proof's purpose in the controller document (``assertionMethod`` for credentials,
  ``authentication`` plus ``challenge``/``domain`` for presentations) — :mod:`ledgr.vc.proofs`;
- ``validity``: ``validFrom``/``validUntil`` (1.1: ``issuanceDate``/``expirationDate``) against ``now``;
- ``schema``: each ``credentialSchema`` (when present) — :mod:`ledgr.vc.schema`;
- ``status``: each ``credentialStatus`` (when present) — :mod:`ledgr.vc.status_list`;
- ``issuer-binding``: the issuer is the controller of a key that produced a verified proof (for a
  presentation: the ``holder`` is, for its authentication proof).

``checks=[…]`` narrows to the named checks (the VC API's ``options.checks``); an unknown name raises
:class:`~ledgr.errors.InvalidInput`. A named check with nothing to check (``status`` without
``credentialStatus``) passes with a warning; ``issuer-binding`` named explicitly for an issuer that
is not a DID fails, because the binding cannot be established offline.

Time: this layer never reads the clock. ``now`` is required whenever a date has to be compared;
without it the ``validity`` check (or, for a proof stating ``expires``, the ``proof`` check) *fails*
with reason ``no-time`` (fail closed: forgetting ``now`` never accepts an expired credential). The
CLI and the HTTP API pass the current time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ledgr.errors import InvalidDocument, InvalidInput, LedgrError, NotFound, VerificationFailed
from ledgr.vc.controllers import ControllerResolver, DidResolver, controller_id, did_of
from ledgr.vc.credential import (
    VP_TYPE,
    CredentialInfo,
    as_list,
    validate_credential,
    validity_errors,
)
from ledgr.vc.dates import require_aware
from ledgr.vc.loader import DocumentLoader
from ledgr.vc.presentation import validate_presentation
from ledgr.vc.proofs import ProofCheck, verify_proofs
from ledgr.vc.results import CHECKS, CheckResult, Notice, VerificationResult, combine, failed
from ledgr.vc.schema import SchemaResolver, check_credential_schemas
from ledgr.vc.status_list import (
    FAILING_PURPOSES,
    StatusResult,
    check_status,
    is_supported_entry,
    parse_status_entry,
)

StatusListFetcher = Callable[[str], dict[str, Any]]
MAX_STATUS_LISTS = 8
VC_TYPE_NAME = "VerifiableCredential"


def verify(document: dict[str, Any], *, checks: list[str] | None = None, now: datetime | None = None,
           resolver: DidResolver | None = None, status_list_fetcher: StatusListFetcher | None = None,
           schema_resolver: SchemaResolver | None = None, challenge: str | None = None,
           domain: str | None = None, loader: DocumentLoader | None = None) -> VerificationResult:
    """Verify a credential or presentation; see the module docstring for the checks and ``now``."""
    context = _Context(
        requested=_requested(checks), now=require_aware(now) if now is not None else None,
        resolve=ControllerResolver(resolver), fetch_status_list=status_list_fetcher,
        schema_resolver=schema_resolver, loader=loader)
    if isinstance(document, dict) and VP_TYPE in as_list(document.get("type")):
        return _verify_presentation(document, context, challenge, domain)
    return _verify_credential(document, context)


@dataclass
class _Context:
    requested: frozenset[str] | None
    now: datetime | None
    resolve: ControllerResolver
    fetch_status_list: StatusListFetcher | None
    schema_resolver: SchemaResolver | None
    loader: DocumentLoader | None
    status_lists: dict[str, dict[str, Any]] = field(default_factory=dict)

    def wants(self, name: str) -> bool:
        return self.requested is None or name in self.requested

    def named(self, name: str) -> bool:
        return self.requested is not None and name in self.requested


def _requested(checks: list[str] | None) -> frozenset[str] | None:
    if checks is None:
        return None
    if isinstance(checks, str) or not all(isinstance(name, str) for name in checks):
        raise InvalidInput("checks must be a list of check names")
    unknown = sorted(set(checks) - set(CHECKS))
    if unknown:
        raise InvalidInput(f"unknown check(s) {', '.join(unknown)}; known: {', '.join(CHECKS)}")
    if not checks:
        raise InvalidInput(f"checks must name at least one of {', '.join(CHECKS)}")
    return frozenset(checks)


def _verify_credential(document: object, context: _Context) -> VerificationResult:
    try:
        info = validate_credential(document)
    except LedgrError as exc:
        return failed(VC_TYPE_NAME, exc)
    if not isinstance(document, dict):
        raise InvalidDocument("a credential must be a JSON object")
    checks: list[CheckResult] = []
    warnings: list[Notice] = []
    proofs = _proofs(document, context, "assertionMethod", None, None)
    if context.wants("proof"):
        checks.append(_proof_result(document, proofs, context))
    if context.wants("validity"):
        checks.append(_validity_result(document, info, context))
    if "credentialSchema" in document and context.wants("schema"):
        checks.append(_schema_result(document, context))
    elif context.named("schema"):
        checks.append(_nothing_to_check("schema", "credentialSchema", warnings))
    if "credentialStatus" in document and context.wants("status"):
        checks.append(_status_result(document, info, context, warnings))
    elif context.named("status"):
        checks.append(_nothing_to_check("status", "credentialStatus", warnings))
    if context.wants("issuer-binding"):
        binding = _binding_result(document.get("issuer"), "issuer", proofs, context, warnings)
        if binding is not None:
            checks.append(binding)
    return combine(VC_TYPE_NAME, checks, warnings)


def _verify_presentation(document: dict[str, Any], context: _Context, challenge: str | None,
                         domain: str | None) -> VerificationResult:
    try:
        info = validate_presentation(document)
    except LedgrError as exc:
        return failed(VP_TYPE, exc)
    checks: list[CheckResult] = []
    warnings: list[Notice] = []
    proofs = _proofs(document, context, "authentication", challenge, domain)
    if context.wants("proof"):
        checks.append(_proof_result(document, proofs, context))
        if challenge is None:
            warnings.append(Notice("challenge-not-checked", "no challenge was given: this presentation "
                                   "could be a replay; pass the challenge you issued to the holder"))
    if context.wants("issuer-binding"):
        binding = _binding_result(document.get("holder"), "holder", proofs, context, warnings)
        if binding is not None:
            checks.append(binding)
    credential_results = [
        failed(VC_TYPE_NAME, InvalidDocument("enveloped credentials are not supported; embed the "
                                             "credential as JSON-LD"))
        if isinstance(credential, dict) and "EnvelopedVerifiableCredential" in as_list(credential.get("type"))
        else _verify_credential(credential, context)
        for credential in info.credentials
    ]
    if not info.credentials:
        warnings.append(Notice("no-credentials", "the presentation carries no credentials"))
    warnings.extend(_holder_subject_notices(info.holder, info.credentials))
    return combine(VP_TYPE, checks, warnings, credential_results)


def _holder_subject_notices(holder: str | None, credentials: tuple[Any, ...]) -> list[Notice]:
    """Tell the verifier when the holder is not a subject of a credential it presents.

    That is legitimate (a parent presenting a child's credential), so it is a warning, not a failure.
    """
    if holder is None:
        return []
    notices = []
    for position, credential in enumerate(credentials):
        subjects = as_list(credential.get("credentialSubject")) if isinstance(credential, dict) else []
        if not any(isinstance(subject, dict) and subject.get("id") == holder for subject in subjects):
            notices.append(Notice("holder-not-subject", f"the holder {holder} is not a subject of "
                                  f"credential {position} in this presentation"))
    return notices


def _proofs(document: dict[str, Any], context: _Context, purpose: str, challenge: str | None,
            domain: str | None) -> list[ProofCheck] | LedgrError:
    if not (context.wants("proof") or context.wants("issuer-binding")):
        return []
    try:
        return verify_proofs(document, resolve_controller=context.resolve, expected_purpose=purpose,
                             challenge=challenge, domain=domain, now=context.now, loader=context.loader)
    except LedgrError as exc:
        return exc


def _proof_result(document: dict[str, Any], proofs: list[ProofCheck] | LedgrError,
                  context: _Context) -> CheckResult:
    if isinstance(proofs, LedgrError):
        return CheckResult("proof", False, (proofs,))
    errors = [check.error for check in proofs if check.error is not None]
    if context.now is None and any(isinstance(proof, dict) and "expires" in proof
                                   for proof in as_list(document.get("proof"))):
        errors.append(InvalidInput("a proof states 'expires' but no current time was given (pass now=…)",
                                   reason="no-time"))
    verified = bool(proofs) and all(check.verified for check in proofs) and not errors
    return CheckResult("proof", verified, tuple(errors), {"proofs": [check.to_json() for check in proofs]})


def _validity_result(document: dict[str, Any], info: CredentialInfo, context: _Context) -> CheckResult:
    dates = {"validFrom": info.valid_from, "validUntil": info.valid_until}
    if info.version == "1.1":
        dates = {"issuanceDate": info.valid_from, "expirationDate": info.valid_until}
    details = {name: document[name] for name, value in dates.items() if value is not None}
    if not details:
        return CheckResult("validity", True, (), {"note": "the credential states no validity period"})
    if context.now is None:
        return CheckResult("validity", False, (InvalidInput(
            "the validity period cannot be checked: no current time was given (pass now=…)",
            reason="no-time"),), details)
    errors = validity_errors(info, context.now)
    return CheckResult("validity", not errors, tuple(errors), details)


def _schema_result(document: dict[str, Any], context: _Context) -> CheckResult:
    errors = check_credential_schemas(document, context.schema_resolver,
                                      verify_schema_credential=_nested_verifier(context, binding=False))
    return CheckResult("schema", not errors, tuple(errors))


def _status_result(document: dict[str, Any], info: CredentialInfo, context: _Context,
                   warnings: list[Notice]) -> CheckResult:
    errors: list[LedgrError] = []
    statuses: list[dict[str, Any]] = []
    for raw in as_list(document["credentialStatus"]):
        try:
            result = _one_status(raw, info, context)
        except LedgrError as exc:
            errors.append(exc)
            continue
        statuses.append({"statusPurpose": result.purpose, "statusListIndex": str(result.index),
                         "statusListCredential": result.list_credential, "status": result.status,
                         "valid": result.valid, "message": result.message})
        reason = FAILING_PURPOSES.get(result.purpose)
        if reason is not None and not result.valid:
            errors.append(VerificationFailed(f"the credential is {reason} (status list "
                                             f"{result.list_credential}, index {result.index})",
                                             reason=reason))
        elif reason is None and result.status:
            warnings.append(Notice(f"status-{result.purpose}",
                                   f"status {result.purpose!r} is set: {result.message}"))
    return CheckResult("status", not errors, tuple(errors), {"statuses": statuses})


def _one_status(raw: object, info: CredentialInfo, context: _Context) -> StatusResult:
    if not is_supported_entry(raw):
        kind = raw.get("type") if isinstance(raw, dict) else None
        raise InvalidDocument(f"credentialStatus of type {kind!r} cannot be checked; ledgr checks "
                              "BitstringStatusListEntry and StatusList2021Entry", reason="unsupported-status")
    entry = parse_status_entry(raw)
    list_credential = _fetch_status_list(entry.list_credential, context)
    return check_status(entry, credential_issuer=info.issuer, list_credential=list_credential,
                        verify_list_credential=_nested_verifier(context, binding=True))


def _fetch_status_list(url: str, context: _Context) -> dict[str, Any]:
    cached = context.status_lists.get(url)
    if cached is not None:
        return cached
    if context.fetch_status_list is None:
        raise VerificationFailed(f"status list {url} cannot be retrieved: no status list fetcher was "
                                 "given", spec_error="STATUS_RETRIEVAL_ERROR", reason="no-status-fetcher")
    if len(context.status_lists) >= MAX_STATUS_LISTS:
        raise VerificationFailed(f"a credential may name at most {MAX_STATUS_LISTS} status lists",
                                 spec_error="STATUS_RETRIEVAL_ERROR", reason="too-many-status-lists")
    try:
        document = context.fetch_status_list(url)
    except LookupError as exc:
        raise NotFound(f"status list {url} was not found", spec_error="STATUS_RETRIEVAL_ERROR") from exc
    except LedgrError as exc:
        raise VerificationFailed(f"status list {url} could not be retrieved: {exc.detail}",
                                 spec_error="STATUS_RETRIEVAL_ERROR", reason=exc.code) from exc
    context.status_lists[url] = document
    return document


def _nested_verifier(context: _Context, *, binding: bool) -> Callable[[dict[str, Any]], list[LedgrError]]:
    """Verify a status list / schema credential: proof, validity and (for status lists) issuer binding."""
    names = ["proof", "validity", *(["issuer-binding"] if binding else [])]

    def run(document: dict[str, Any]) -> list[LedgrError]:
        nested = _Context(requested=frozenset(names), now=context.now, resolve=context.resolve,
                          fetch_status_list=None, schema_resolver=None, loader=context.loader)
        return _verify_credential(document, nested).all_errors()

    return run


def _nothing_to_check(name: str, property_name: str, warnings: list[Notice]) -> CheckResult:
    warnings.append(Notice(f"{name}-not-applicable", f"the document has no {property_name}: "
                           f"nothing for the {name} check to check"))
    return CheckResult(name, True, (), {"note": f"no {property_name}"})


def _binding_result(controller: object, role: str, proofs: list[ProofCheck] | LedgrError,
                    context: _Context, warnings: list[Notice]) -> CheckResult | None:
    """Is ``controller`` (issuer/holder) the controller of a key with a verified proof?"""
    did = controller_id(controller)
    if did is None:
        if controller is None and role == "holder" and not context.named("issuer-binding"):
            warnings.append(Notice("no-holder", "the presentation names no holder: it is not bound to "
                                   "whoever signed it"))
            return None
        message = (f"the {role} {_preview(controller)} is not a DID, so its control of the signing key "
                   "cannot be checked offline")
        if not context.named("issuer-binding"):
            warnings.append(Notice(f"{role}-binding-unchecked", message))
            return None
        return CheckResult("issuer-binding", False, (VerificationFailed(message, reason="not-a-did"),))
    if isinstance(proofs, LedgrError):
        return CheckResult("issuer-binding", False, (proofs,))
    signers = [check.verification_method for check in proofs if check.verified]
    details = {role: did, "verificationMethods": [check.verification_method for check in proofs]}
    if any(did_of(method) == did for method in signers):
        return CheckResult("issuer-binding", True, (), details)
    if not signers:
        error = VerificationFailed(f"no proof verified, so the {role} {did} is not bound to a key",
                                   reason="no-verified-proof")
    else:
        error = VerificationFailed(f"the {role} {did} does not control the key that signed "
                                   f"({', '.join(str(method) for method in signers)})",
                                   reason=f"{role}-mismatch")
    return CheckResult("issuer-binding", False, (error,), details)


def _preview(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 64 else text[:61] + "..."
