"""Deterministic keys and credentials for the credential/presentation/status/schema tests."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from ledgr.crypto import PrivateKey
from ledgr.did.key import did_key_from_public_key
from ledgr.vc import issue

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CREATED = "2026-05-01T00:00:00Z"
V2 = "https://www.w3.org/ns/credentials/v2"
V1 = "https://www.w3.org/2018/credentials/v1"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
DATA_INTEGRITY = "https://w3id.org/security/data-integrity/v2"


def key(seed: int = 1) -> PrivateKey:
    return PrivateKey.from_seed(bytes([seed]) * 32)


def did(private_key: PrivateKey) -> str:
    return did_key_from_public_key(private_key.public_key)


def credential(issuer: str, /, **overrides: Any) -> dict[str, Any]:
    """A VC 2.0 credential; ``overrides`` replace (or with value None, remove) top-level properties."""
    document: dict[str, Any] = {
        "@context": [V2, EXAMPLES],
        "id": "urn:uuid:0f7c2a52-6d55-4c1e-9d3e-1d2b3c4d5e6f",
        "type": ["VerifiableCredential", "ExampleDegreeCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2027-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:alice", "degree": {"type": "ExampleBachelorDegree",
                                                                     "name": "Bachelor of Science"}},
    }
    for name, value in overrides.items():
        if value is None:
            document.pop(name, None)
        else:
            document[name] = value
    return document


def credential_v11(issuer: str, /, **overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": [V1, DATA_INTEGRITY],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:alice"},
    }
    document.update(overrides)
    return document


def signed(private_key: PrivateKey, suite: str = "eddsa-rdfc-2022", **overrides: Any) -> dict[str, Any]:
    return issue(credential(did(private_key), **overrides), secret_key=private_key.multikey, suite=suite,
                 created=CREATED)


def tampered(document: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """A deep copy of ``document`` with the value at ``path`` replaced."""
    copied = copy.deepcopy(document)
    target: Any = copied
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return copied
