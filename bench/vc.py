"""VC engine throughput: issue/s and verify/s per suite on one core, through the public API.

The credential is a realistic pilot credential: 15 subject claims (strings, dates, numbers, a nested
address, a list), a custom context registered with the loader, and a ``BitstringStatusListEntry``.
``verify`` runs every check (proof, validity, schema, status, issuer-binding); the status check
fetches a signed status list credential from memory and verifies its proof too. ``verify proof`` runs
only the proof check. The baseline is an ``eddsa-rdfc-2022`` pipeline with pyld (URDNA2015) as the
canonicalizer, everything else equal (same hashing, same Ed25519 signer).

When SpruceID's didkit Python binding is installed (``pip install didkit==0.3.3``, not a ledgr
dependency), a second table compares it with ledgr on the one document both can process: didkit 0.3
cannot load VC 2.0 or operator contexts, so that is a minimal VC 1.1 credential signed with
``Ed25519Signature2020`` (RDF canonicalization in both).

The machine is shared and its speed drifts, so every figure is measured in ``--rounds`` short slices
interleaved with all the others, and the median slice is printed: figures of one run are comparable.

Usage: ``.venv/bin/python bench/vc.py [--seconds 5] [--rounds 5] [--suite NAME ...] [--no-baseline]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyoxigraph

from ledgr.crypto import PrivateKey, sha256
from ledgr.vc import StatusList, build_status_entry, build_status_list_credential, issue, verify
from ledgr.vc.canonical_pyld import pyld_canonical_nquads
from ledgr.vc.loader import DocumentLoader
from ledgr.vc.proofs import SUPPORTED_SUITES

PILOT_URL = "https://contexts.ledgr.example/pilot/v1"
PILOT_CONTEXT = {"@context": {
    "@protected": True,
    "pilot": "https://vocab.ledgr.example/pilot#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "schema": "https://schema.org/",
    "ResidencePermitCredential": "pilot:ResidencePermitCredential",
    "givenName": "schema:givenName",
    "familyName": "schema:familyName",
    "birthDate": {"@id": "schema:birthDate", "@type": "xsd:date"},
    "birthPlace": "schema:birthPlace",
    "nationality": "schema:nationality",
    "gender": "schema:gender",
    "bsn": "pilot:bsn",
    "permitNumber": "pilot:permitNumber",
    "permitType": "pilot:permitType",
    "issuingMunicipality": "pilot:issuingMunicipality",
    "residentSince": {"@id": "pilot:residentSince", "@type": "xsd:date"},
    "householdSize": {"@id": "pilot:householdSize", "@type": "xsd:integer"},
    "workAllowed": {"@id": "pilot:workAllowed", "@type": "xsd:boolean"},
    "languages": {"@id": "pilot:languages", "@container": "@set"},
    "address": "schema:address",
    "PostalAddress": "schema:PostalAddress",
    "streetAddress": "schema:streetAddress",
    "postalCode": "schema:postalCode",
    "addressLocality": "schema:addressLocality",
}}
STATUS_LIST_URL = "https://status.ledgr.example/lists/1"
CREATED = "2026-11-25T09:00:00Z"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def realistic_credential(issuer: str) -> dict[str, Any]:
    subject = {
        "id": "did:example:holder-7f3a",
        "givenName": "Anna", "familyName": "de Vries", "birthDate": "1990-04-12", "birthPlace": "Utrecht",
        "nationality": "NL", "gender": "F", "bsn": "999990019", "permitNumber": "NL-RP-2026-004211",
        "permitType": "permanent", "issuingMunicipality": "Gemeente Utrecht", "residentSince": "2015-09-01",
        "householdSize": 3, "workAllowed": True, "languages": ["nl", "en", "de"],
        "address": {"type": "PostalAddress", "streetAddress": "Oudegracht 1", "postalCode": "3511 AA",
                    "addressLocality": "Utrecht"},
    }
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", PILOT_URL],
        "id": "urn:uuid:3f0c9a4e-8d1b-4b7e-9c51-1a2b3c4d5e6f",
        "type": ["VerifiableCredential", "ResidencePermitCredential"],
        "name": "Residence permit", "description": "Pilot residence permit credential",
        "issuer": issuer, "validFrom": "2026-01-01T00:00:00Z", "validUntil": "2031-01-01T00:00:00Z",
        "credentialSubject": subject,
        "credentialStatus": build_status_entry(list_credential=STATUS_LIST_URL, index=94567,
                                               status_purpose="revocation"),
    }


Measure = tuple[Callable[[], object], int]  # a callable and how many operations one call performs


def measure(named: dict[str, Measure], seconds: float, rounds: int) -> dict[str, float]:
    """Operations per second of each callable: the median of ``rounds`` interleaved slices."""
    for fn, _ in named.values():
        for _ in range(5):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in named}
    slice_seconds = seconds / rounds
    for _ in range(rounds):
        for name, (fn, per_call) in named.items():
            gc.collect()
            operations, start = 0, time.perf_counter()
            while True:
                fn()
                operations += per_call
                elapsed = time.perf_counter() - start
                if elapsed >= slice_seconds:
                    break
            samples[name].append(operations / elapsed)
    return {name: statistics.median(values) for name, values in samples.items()}


def ledgr_measures(suite: str, key: PrivateKey, did: str, credential: dict[str, Any],
                   loader: DocumentLoader) -> dict[str, Measure]:
    unsigned_list = build_status_list_credential(list_id=STATUS_LIST_URL, issuer=did,
                                                 status_purpose="revocation", status_list=StatusList())
    status_list = issue(unsigned_list, secret_key=key.multikey, suite=suite, created=CREATED, loader=loader)
    signed = issue(credential, secret_key=key.multikey, suite=suite, created=CREATED, loader=loader)
    result = verify(signed, now=NOW, loader=loader, status_list_fetcher=lambda url: status_list)
    if not result.verified:
        raise SystemExit(f"{suite}: the benchmark credential does not verify: {result.to_json()}")
    return {
        f"{suite} issue": (lambda: issue(credential, secret_key=key.multikey, suite=suite, created=CREATED,
                                         loader=loader), 1),
        f"{suite} verify": (lambda: verify(signed, now=NOW, loader=loader,
                                           status_list_fetcher=lambda url: status_list), 1),
        f"{suite} verify proof": (lambda: verify(signed, now=NOW, loader=loader, checks=["proof"]), 1),
    }


def pyld_measures(document: dict[str, Any], key: PrivateKey, method: str,
                  loader: DocumentLoader) -> dict[str, Measure]:
    """eddsa-rdfc-2022 issue and verify with pyld's URDNA2015 as canonicalizer (vc-di-eddsa §3.2)."""
    options = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": CREATED,
               "verificationMethod": method, "proofPurpose": "assertionMethod"}

    def hash_data() -> bytes:
        config = {**options, "@context": document["@context"]}
        doc_nquads = pyld_canonical_nquads(document, loader=loader).encode()
        config_nquads = pyld_canonical_nquads(config, loader=loader).encode()
        return sha256(config_nquads) + sha256(doc_nquads)

    signature = key.sign(hash_data())

    def verify_once() -> None:
        if not key.public_key.verify(hash_data(), signature):
            raise SystemExit("baseline signature does not verify")

    return {"pyld issue": (lambda: key.sign(hash_data()), 1), "pyld verify proof": (verify_once, 1)}


MINIMAL_V1_BATCH = 10


def minimal_v1_credential(did: str) -> dict[str, Any]:
    return {"@context": ["https://www.w3.org/2018/credentials/v1"], "id": "urn:uuid:1",
            "type": ["VerifiableCredential"], "issuer": did, "issuanceDate": "2026-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:holder"}}


def didkit_measures(key: PrivateKey, loop: asyncio.AbstractEventLoop) -> tuple[str, dict[str, Measure]]:
    """didkit and ledgr, Ed25519Signature2020 on a minimal VC 1.1 credential (all didkit 0.3 can load)."""
    try:
        import didkit  # type: ignore[import-not-found]
    except ImportError:
        return "", {}
    jwk = json.dumps(key.to_jwk())
    did = didkit.key_to_did("key", jwk)
    credential = minimal_v1_credential(did)
    text = json.dumps(credential)
    verify_options = json.dumps({"proofPurpose": "assertionMethod"})
    async def prepare() -> tuple[str, str]:
        method = await didkit.key_to_verification_method("key", jwk)
        options = json.dumps({"type": "Ed25519Signature2020", "proofPurpose": "assertionMethod",
                              "verificationMethod": method})
        signed = await didkit.issue_credential(text, options, jwk)
        if json.loads(await didkit.verify_credential(signed, verify_options))["errors"]:
            raise SystemExit("didkit: its own credential does not verify")
        return options, signed

    options, didkit_signed = loop.run_until_complete(prepare())
    ledgr_signed = issue(credential, secret_key=key.multikey, suite="Ed25519Signature2020", created=CREATED)
    if not verify(ledgr_signed, now=NOW).verified:
        raise SystemExit("ledgr: the VC 1.1 comparison credential does not verify")

    async def didkit_issue() -> None:
        for _ in range(MINIMAL_V1_BATCH):
            await didkit.issue_credential(text, options, jwk)

    async def didkit_verify() -> None:
        for _ in range(MINIMAL_V1_BATCH):
            await didkit.verify_credential(didkit_signed, verify_options)

    return didkit.get_version(), {
        "didkit issue": (lambda: loop.run_until_complete(didkit_issue()), MINIMAL_V1_BATCH),
        "didkit verify": (lambda: loop.run_until_complete(didkit_verify()), MINIMAL_V1_BATCH),
        "ledgr v1 issue": (lambda: issue(credential, secret_key=key.multikey, suite="Ed25519Signature2020",
                                         created=CREATED), 1),
        "ledgr v1 verify": (lambda: verify(ledgr_signed, now=NOW), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring time per figure")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved slices per figure")
    parser.add_argument("--suite", action="append", choices=SUPPORTED_SUITES, help="suite(s) to measure")
    parser.add_argument("--no-baseline", action="store_true", help="skip the pyld and didkit baselines")
    args = parser.parse_args()

    key = PrivateKey.from_seed(bytes(range(32)))
    did = "did:key:" + key.public_key.multikey
    method = f"{did}#{key.public_key.multikey}"
    loader = DocumentLoader({PILOT_URL: PILOT_CONTEXT})
    credential = realistic_credential(did)
    suites = args.suite or list(SUPPORTED_SUITES)
    named: dict[str, Measure] = {}
    for suite in suites:
        named.update(ledgr_measures(suite, key, did, credential, loader))
    loop = asyncio.new_event_loop()
    didkit_version = ""
    if not args.no_baseline:
        named.update(pyld_measures(credential, key, method, loader))
        didkit_version, extra = didkit_measures(key, loop)
        named.update(extra)
    rates = measure(named, args.seconds, args.rounds)
    loop.close()

    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    print(f"python {platform.python_version()} on {platform.machine()}, pyoxigraph {pyoxigraph.__version__}, "
          f"one core, in-process; median of {args.rounds} interleaved slices, {args.seconds:g} s per figure")
    print(f"\nrealistic credential ({len(credential['credentialSubject']) - 1} subject claims, "
          "custom context, BitstringStatusListEntry), through ledgr.vc.issue/verify")
    print(f"{'suite':<24}{'issue/s':>10}{'verify/s':>10}{'verify proof/s':>16}")
    for suite in suites:
        print(f"{suite:<24}{rates[suite + ' issue']:>10.0f}{rates[suite + ' verify']:>10.0f}"
              f"{rates[suite + ' verify proof']:>16.0f}")
    if "pyld issue" in rates:
        print(f"{'pyld rdfc (baseline)':<24}{rates['pyld issue']:>10.0f}{'-':>10}"
              f"{rates['pyld verify proof']:>16.0f}")
    if didkit_version:
        print(f"\nminimal VC 1.1 credential, Ed25519Signature2020 (didkit {didkit_version} "
              "cannot load VC 2.0 or operator contexts)")
        print(f"{'implementation':<24}{'issue/s':>10}{'verify/s':>10}")
        print(f"{'didkit (Rust)':<24}{rates['didkit issue']:>10.0f}{rates['didkit verify']:>10.0f}")
        print(f"{'ledgr':<24}{rates['ledgr v1 issue']:>10.0f}{rates['ledgr v1 verify']:>10.0f}")
    elif not args.no_baseline:
        print("\ndidkit: not installed (pip install didkit==0.3.3 to compare)")


if __name__ == "__main__":
    main()
