"""Example values for the OpenAPI document, derived deterministically so they are self-consistent.

Keys come from fixed seeds (documentation only, never use them), DIDs are shaped like real
``did:ledgr`` identifiers (base58btc of 16 bytes) and hashes are real SHA-256 values, so every example
matches the patterns in the schemas.
"""

from __future__ import annotations

import gzip
from typing import Any

from ledgr.crypto import PrivateKey, multibase, sha256, sha256_hex

ISSUER_KEY = PrivateKey.from_seed(sha256(b"ledgr openapi example issuer key"))
NEXT_KEY = PrivateKey.from_seed(sha256(b"ledgr openapi example rotated key"))
VALIDATOR_KEY = PrivateKey.from_seed(sha256(b"ledgr openapi example validator key"))

ISSUER_MULTIKEY = ISSUER_KEY.public_key.multikey
NEXT_MULTIKEY = NEXT_KEY.public_key.multikey
ISSUER_DID = "did:ledgr:" + multibase.b58encode(sha256(b"ledgr openapi example did")[:16])
ISSUER_VM = f"{ISSUER_DID}#{ISSUER_MULTIKEY}"
DID_KEY = "did:key:" + ISSUER_MULTIKEY
HOLDER_DID = "did:ledgr:" + multibase.b58encode(sha256(b"ledgr openapi example holder")[:16])

OPERATION_HASH = sha256_hex(b"ledgr openapi example operation")
BLOCK_HASH = sha256_hex(b"ledgr openapi example block")
APP_ROOT = sha256_hex(b"ledgr openapi example app root")
TX_ROOT = sha256_hex(b"ledgr openapi example tx root")
VALIDATORS_HASH = sha256_hex(b"ledgr openapi example validators")
VERSION_ID = sha256_hex(b"ledgr openapi example version")
SIGNATURE = multibase.encode_base58btc(ISSUER_KEY.sign(b"ledgr openapi example"))
QC_SIGNATURE_HEX = VALIDATOR_KEY.sign(b"ledgr openapi example qc").hex()
CHAIN_ID = "ledgr-pilot-1"
TIME = "2026-11-25T09:00:00Z"
EARLIER = "2026-11-20T12:00:00Z"
PUBLIC_BASE = "https://ledgr.example.nl/v1"
STATUS_LIST_ID = "3f2b8c1d9e7a4b60"
STATUS_LIST_URL = f"{PUBLIC_BASE}/status-lists/{STATUS_LIST_ID}"
TOKEN_ID = "3f9c0d2a7b1e4c55"
TOKEN = f"ledgr_{TOKEN_ID}_" + multibase.b64url_nopad(sha256(b"ledgr openapi example token"))
# A real encodedList (Bitstring Status List §2.1): multibase base64url of GZIP of 131,072 zero bits.
ENCODED_EMPTY_LIST = "u" + multibase.b64url_nopad(gzip.compress(bytes(131072 // 8), mtime=0))
CREDENTIAL_ID = "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33"

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
EXAMPLE_CONTEXT = "https://www.w3.org/ns/credentials/examples/v2"

STATUS_ENTRY: dict[str, Any] = {
    "id": f"{STATUS_LIST_URL}#94567",
    "type": "BitstringStatusListEntry",
    "statusPurpose": "revocation",
    "statusListIndex": "94567",
    "statusListCredential": STATUS_LIST_URL,
}

CREDENTIAL: dict[str, Any] = {
    "@context": [VC_CONTEXT, EXAMPLE_CONTEXT],
    "id": CREDENTIAL_ID,
    "type": ["VerifiableCredential", "ExampleDiplomaCredential"],
    "issuer": ISSUER_DID,
    "validFrom": TIME,
    "credentialSubject": {"id": HOLDER_DID, "name": "Jan Jansen", "degree": "MSc Informatica"},
}

PROOF: dict[str, Any] = {
    "type": "DataIntegrityProof",
    "cryptosuite": "eddsa-rdfc-2022",
    "created": TIME,
    "verificationMethod": ISSUER_VM,
    "proofPurpose": "assertionMethod",
    "proofValue": SIGNATURE,
}

VERIFIABLE_CREDENTIAL: dict[str, Any] = {**CREDENTIAL, "credentialStatus": STATUS_ENTRY, "proof": PROOF}

PRESENTATION: dict[str, Any] = {
    "@context": [VC_CONTEXT],
    "type": ["VerifiablePresentation"],
    "holder": HOLDER_DID,
    "verifiableCredential": [VERIFIABLE_CREDENTIAL],
    "proof": {**PROOF, "verificationMethod": f"{HOLDER_DID}#{NEXT_MULTIKEY}",
              "proofPurpose": "authentication", "challenge": "5b2c1e0a-9f1d-4c3e-8e2a-0d6c1f7b3a94",
              "domain": "https://verifier.example.nl"},
}

DID_DOCUMENT: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
    "id": ISSUER_DID,
    "verificationMethod": [{"id": ISSUER_VM, "type": "Multikey", "controller": ISSUER_DID,
                            "publicKeyMultibase": ISSUER_MULTIKEY}],
    "authentication": [ISSUER_VM],
    "assertionMethod": [ISSUER_VM],
    "capabilityInvocation": [ISSUER_VM],
}

DID_DOCUMENT_METADATA: dict[str, Any] = {
    "created": EARLIER, "updated": TIME, "versionId": VERSION_ID, "deactivated": False,
}

HEADER: dict[str, Any] = {
    "chain_id": CHAIN_ID, "height": 1042, "time_ms": 1795597200000, "time": "2026-11-25T09:00:00.000Z",
    "prev_hash": BLOCK_HASH, "tx_root": TX_ROOT, "app_root": APP_ROOT, "validators_hash": VALIDATORS_HASH,
    "next_validators_hash": VALIDATORS_HASH, "proposer": VALIDATOR_KEY.public_key.raw.hex(),
    "hash": sha256_hex(b"ledgr openapi example header"), "encoded": "0a0d6c656467722d70696c6f742d31",
}

QC: dict[str, Any] = {
    "height": 1042, "round": 0, "block_hash": HEADER["hash"], "signers": [0, 1], "signer_count": 2,
    "signatures": [QC_SIGNATURE_HEX, QC_SIGNATURE_HEX], "encoded": "01" + QC_SIGNATURE_HEX,
}
