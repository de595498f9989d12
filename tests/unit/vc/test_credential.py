"""VC data model validation (VC DM 2.0 §4, 1.1 §4), size limits and validity periods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ledgr.errors import InvalidDocument, TooLarge
from ledgr.vc.credential import (
    CREDENTIAL_LIMITS,
    check_document_size,
    validate_credential,
    validity_errors,
)
from tests.unit.vc.credential_factory import V1, V2, credential, credential_v11

ISSUER = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"


def test_valid_v2_credential_reports_what_it_found() -> None:
    info = validate_credential(credential(ISSUER))
    assert info.version == "2.0"
    assert info.issuer == ISSUER
    assert info.types == ("VerifiableCredential", "ExampleDegreeCredential")
    assert info.valid_from == datetime(2026, 1, 1, tzinfo=UTC)
    assert info.valid_until == datetime(2027, 1, 1, tzinfo=UTC)


def test_issuer_object_with_id_and_v11_credential() -> None:
    info = validate_credential(credential(ISSUER, issuer={"id": ISSUER, "name": "Gemeente"},
                                          name=[{"@value": "Diploma", "@language": "nl"}, "Degree"]))
    assert info.issuer == ISSUER
    info_v11 = validate_credential(credential_v11(ISSUER, expirationDate="2030-01-01T00:00:00+01:00"))
    assert info_v11.version == "1.1"
    assert info_v11.valid_from == datetime(2026, 1, 1, tzinfo=UTC)
    assert info_v11.valid_until == datetime(2029, 12, 31, 23, tzinfo=UTC)


BAD_V2: list[tuple[str, dict[str, Any], str]] = [
    ("no context", {"@context": None}, "@context"),
    ("wrong first context", {"@context": ["https://www.w3.org/ns/credentials/examples/v2", V2]}, "@context"),
    ("v1 after v2", {"@context": [V2, V1]}, "@context"),
    ("context entry not a URL", {"@context": [V2, 42]}, "@context"),
    ("no type", {"type": None}, "type"),
    ("type without VerifiableCredential", {"type": ["ExampleDegreeCredential"]}, "type"),
    ("empty type string", {"type": ["VerifiableCredential", ""]}, "type"),
    ("no issuer", {"issuer": None}, "issuer"),
    ("issuer not a URL", {"issuer": "Gemeente Voorbeeld"}, "issuer"),
    ("issuer object without id", {"issuer": {"name": "Gemeente"}}, "issuer"),
    ("id not a URL", {"id": "not a url"}, "id"),
    ("no credentialSubject", {"credentialSubject": None}, "credentialSubject"),
    ("empty credentialSubject", {"credentialSubject": {}}, "credentialSubject"),
    ("empty credentialSubject list", {"credentialSubject": []}, "credentialSubject"),
    ("credentialSubject id not a URL", {"credentialSubject": {"id": "alice"}}, "credentialSubject"),
    ("validFrom without timezone", {"validFrom": "2026-01-01T00:00:00"}, "validFrom"),
    ("validFrom not a date", {"validFrom": "yesterday"}, "validFrom"),
    ("validUntil before validFrom", {"validUntil": "2025-01-01T00:00:00Z"}, "validUntil"),
    ("1.1 issuanceDate in a 2.0 credential", {"issuanceDate": "2026-01-01T00:00:00Z"}, "issuanceDate"),
    ("1.1 expirationDate in a 2.0 credential", {"expirationDate": "2020-01-01T00:00:00Z"},
     "expirationDate"),
    ("status entry without type", {"credentialStatus": {"id": "https://example.org/s#1"}}, "type"),
    ("schema without id", {"credentialSchema": {"type": "JsonSchema"}}, "credentialSchema"),
    ("evidence not an object", {"evidence": ["text"]}, "evidence"),
    ("name not a string", {"name": 42}, "name"),
    ("description with a bad language object", {"description": {"@value": "x", "@lang": "nl"}},
     "description"),
    ("issuer name not a string", {"issuer": {"id": ISSUER, "name": ["ok", 7]}}, "name"),
    ("related resource without digest", {"relatedResource": {"id": "https://example.org/r"}},
     "relatedResource"),
]


@pytest.mark.parametrize(("change", "prop"), [(c, p) for _, c, p in BAD_V2], ids=[n for n, _, _ in BAD_V2])
def test_invalid_v2_credentials_name_the_property(change: dict[str, Any], prop: str) -> None:
    with pytest.raises(InvalidDocument) as caught:
        validate_credential(credential(ISSUER, **change))
    assert caught.value.extra.get("property") == prop
    assert caught.value.code.startswith("invalid")


def test_v11_rules() -> None:
    with pytest.raises(InvalidDocument, match="issuanceDate"):
        validate_credential({k: v for k, v in credential_v11(ISSUER).items() if k != "issuanceDate"})
    with pytest.raises(InvalidDocument, match="other data model"):
        validate_credential(credential_v11(ISSUER, validFrom="2026-01-01T00:00:00Z"))


def test_not_an_object_and_proof_shape() -> None:
    with pytest.raises(InvalidDocument):
        validate_credential(["not", "an", "object"])
    with pytest.raises(InvalidDocument, match="proof"):
        validate_credential(credential(ISSUER, proof="signature"))
    with pytest.raises(InvalidDocument, match="no 'proof'"):
        validate_credential(credential(ISSUER), require_proof=True)


def test_size_limits() -> None:
    deep: Any = "leaf"
    for _ in range(CREDENTIAL_LIMITS.max_depth + 2):
        deep = {"n": deep}
    with pytest.raises(TooLarge, match="deeper"):
        validate_credential(credential(ISSUER, credentialSubject={"id": "did:example:a", "x": deep}))
    wide = {"id": "did:example:a", "items": list(range(CREDENTIAL_LIMITS.max_nodes + 1))}
    with pytest.raises(TooLarge, match="JSON values"):
        validate_credential(credential(ISSUER, credentialSubject=wide))
    with pytest.raises(TooLarge, match="longer than"):
        check_document_size({"s": "x" * (CREDENTIAL_LIMITS.max_string_chars + 1)})
    check_document_size({"s": "x" * 1000})


def test_validity_window_is_inclusive_and_reports_reason() -> None:
    info = validate_credential(credential(ISSUER))
    start, end = info.valid_from, info.valid_until
    assert start is not None and end is not None
    assert validity_errors(info, start) == []
    assert validity_errors(info, end) == []
    early = validity_errors(info, start - timedelta(seconds=1))
    assert [e.extra["reason"] for e in early] == ["not-yet-valid"]
    assert "validFrom" in early[0].detail
    late = validity_errors(info, end + timedelta(seconds=1))
    assert [e.extra["reason"] for e in late] == ["expired"]


def test_validity_v11_uses_expiration_date() -> None:
    info = validate_credential(credential_v11(ISSUER, expirationDate="2026-02-01T00:00:00Z"))
    late = validity_errors(info, datetime(2026, 3, 1, tzinfo=UTC))
    assert late[0].extra["property"] == "expirationDate"
    assert validity_errors(info, datetime(2026, 1, 15, tzinfo=UTC)) == []


def test_validity_needs_an_aware_now() -> None:
    info = validate_credential(credential(ISSUER))
    with pytest.raises(InvalidDocument, match="timezone-aware"):
        validity_errors(info, datetime(2026, 6, 1))
