"""Offline demo (``python -m ledgr.demo``, run by ``scripts/demo``).

Generates an issuer key (did:key), issues a realistic credential with ``eddsa-rdfc-2022`` and
``eddsa-jcs-2022``, verifies both, then tampers with a claim and shows that verification fails.
A holder then presents a credential for a verifier's challenge; the same presentation replayed
in another session is rejected. Finally the credential is revoked in a Bitstring Status List and
the status check catches it.
Exits 0 when every step behaves as expected, 1 otherwise. No network, no node needed.
"""

from __future__ import annotations

import copy
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from ledgr.crypto import PrivateKey
from ledgr.did.key import did_key_from_public_key
from ledgr.vc import (
    StatusList,
    VerificationResult,
    build_status_entry,
    build_status_list_credential,
    create_presentation,
    issue,
    sign_presentation,
    verify,
)
from ledgr.vc.dates import format_date_time_stamp

STATUS_LIST_URL = "https://status.gemeente.example/lists/1"
STATUS_INDEX = 48_213


def _credential(issuer: str, now: datetime) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:7b1f0c2e-2d8f-4b8e-9a55-3c0f6d1e4a21",
        "type": ["VerifiableCredential", "ResidencePermitCredential"],
        "name": "Verblijfsvergunning (demo)",
        "issuer": {"id": issuer, "name": "Gemeente Voorbeeld"},
        "validFrom": format_date_time_stamp(now - timedelta(days=1)),
        "validUntil": format_date_time_stamp(now + timedelta(days=365)),
        "credentialSubject": {
            "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
            "givenName": "Anna", "familyName": "de Vries", "birthDate": "1990-04-12",
            "permitType": "Arbeid", "municipality": "Voorbeeld",
        },
        "credentialStatus": build_status_entry(list_credential=STATUS_LIST_URL, index=STATUS_INDEX,
                                               status_purpose="revocation"),
    }


def _line(ok: bool, text: str) -> bool:
    print(f"  [{'ok' if ok else 'FAIL'}] {text}")
    return ok


def _summary(result: VerificationResult) -> str:
    parts = [f"{check.name}={'pass' if check.verified else 'FAIL'}" for check in result.checks]
    first_error = next(iter(result.all_errors()), None)
    reason = f" — {first_error.detail}" if first_error is not None else ""
    return ", ".join(parts) + reason


def main() -> int:
    now = datetime.now(UTC).replace(microsecond=0)
    created = format_date_time_stamp(now)
    key = PrivateKey.generate()
    issuer = did_key_from_public_key(key.public_key)
    print(f"issuer key generated: {issuer}")

    status_list = StatusList()
    lists: dict[str, dict[str, Any]] = {}

    def publish() -> None:
        unsigned = build_status_list_credential(list_id=STATUS_LIST_URL, issuer=issuer,
                                                status_purpose="revocation", status_list=status_list,
                                                valid_from=created)
        lists[STATUS_LIST_URL] = issue(unsigned, secret_key=key.multikey, suite="eddsa-rdfc-2022",
                                       created=created)

    publish()
    ok = True
    signed: dict[str, dict[str, Any]] = {}
    for suite in ("eddsa-rdfc-2022", "eddsa-jcs-2022"):
        print(f"\n{suite}")
        credential = issue(_credential(issuer, now), secret_key=key.multikey, suite=suite, created=created)
        signed[suite] = credential
        result = verify(credential, now=now, status_list_fetcher=lists.__getitem__)
        ok &= _line(result.verified, f"issued and verified: {_summary(result)}")
        tampered = copy.deepcopy(credential)
        tampered["credentialSubject"]["familyName"] = "Jansen"
        result = verify(tampered, now=now, status_list_fetcher=lists.__getitem__)
        ok &= _line(not result.verified, f"tampered familyName rejected: {_summary(result)}")
        result = verify(credential, now=now + timedelta(days=400), status_list_fetcher=lists.__getitem__)
        ok &= _line(not result.verified, f"rejected after validUntil: {_summary(result)}")

    print("\npresentation (holder proof bound to the verifier's challenge)")
    holder = PrivateKey.generate()
    presentation = sign_presentation(
        create_presentation([signed["eddsa-jcs-2022"]], holder=did_key_from_public_key(holder.public_key)),
        secret_key=holder.multikey, suite="eddsa-rdfc-2022", challenge="session-1-nonce",
        domain="https://verifier.example", created=created)
    result = verify(presentation, now=now, challenge="session-1-nonce", domain="https://verifier.example",
                    status_list_fetcher=lists.__getitem__)
    ok &= _line(result.verified, f"presentation verified with its credential: {_summary(result)}")
    result = verify(presentation, now=now, challenge="session-2-nonce", domain="https://verifier.example",
                    status_list_fetcher=lists.__getitem__)
    ok &= _line(not result.verified, f"replayed in another session rejected: {_summary(result)}")

    print("\nrevocation (Bitstring Status List, 131,072 entries)")
    status_list.set(STATUS_INDEX)
    publish()
    result = verify(signed["eddsa-rdfc-2022"], now=now, status_list_fetcher=lists.__getitem__)
    ok &= _line(not result.verified, f"revoked credential rejected: {_summary(result)}")

    print("\nsigned credential (eddsa-rdfc-2022):")
    print(json.dumps(signed["eddsa-rdfc-2022"], indent=2, ensure_ascii=False))
    print("\ndemo " + ("succeeded" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
