"""credentialSchema checks (VC JSON Schema): dialects, $ref through the resolver, schema credentials."""

from __future__ import annotations

from typing import Any

import pytest

from ledgr.errors import InvalidDocument
from ledgr.vc import issue, verify
from ledgr.vc.schema import MAX_SCHEMA_RETRIEVALS, check_credential_schemas, validate_against
from tests.unit.vc.credential_factory import CREATED, NOW, credential, did, key, tampered

SCHEMA_URL = "https://schemas.example/degree/v1.json"
ISSUER_KEY = key(3)

DEGREE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["credentialSubject"],
    "properties": {
        "credentialSubject": {
            "type": "object",
            "required": ["degree"],
            "properties": {"degree": {"type": "object", "required": ["name"],
                                      "properties": {"name": {"type": "string", "minLength": 3}}}},
        },
        "validUntil": {"type": "string", "format": "date-time"},
    },
}


def _signed(subject: dict[str, Any] | None = None, schema_type: str = "JsonSchema") -> dict[str, Any]:
    extra: dict[str, Any] = {"credentialSchema": {"id": SCHEMA_URL, "type": schema_type}}
    if subject is not None:
        extra["credentialSubject"] = subject
    return issue(credential(did(ISSUER_KEY), **extra), secret_key=ISSUER_KEY.multikey,
                 suite="eddsa-rdfc-2022", created=CREATED)


def test_conforming_credential_passes_the_schema_check() -> None:
    result = verify(_signed(), now=NOW, schema_resolver={SCHEMA_URL: DEGREE_SCHEMA}.__getitem__)
    assert result.verified
    schema = result.check("schema")
    assert schema is not None and schema.verified


def test_violation_fails_with_the_path() -> None:
    bad = _signed({"id": "did:example:alice", "degree": {"name": "BS"}})
    result = verify(bad, now=NOW, schema_resolver={SCHEMA_URL: DEGREE_SCHEMA}.__getitem__)
    assert not result.verified
    schema = result.check("schema")
    assert schema is not None and not schema.verified
    assert schema.errors[0].extra["path"] == "/credentialSubject/degree/name"
    assert schema.errors[0].extra["reason"] == "schema-violation"
    proof = result.check("proof")
    assert proof is not None and proof.verified


def test_draft_7_and_unknown_dialects() -> None:
    draft7 = {**DEGREE_SCHEMA, "$schema": "http://json-schema.org/draft-07/schema#"}
    instance = {"credentialSubject": {"degree": {"name": "x"}}}
    assert len(validate_against(instance, draft7)) == 1
    with_hash = {**DEGREE_SCHEMA, "$schema": "https://json-schema.org/draft/2020-12/schema#"}
    assert len(validate_against(instance, with_hash)) == 1
    with pytest.raises(InvalidDocument, match="unsupported \\$schema"):
        validate_against(instance, {**DEGREE_SCHEMA, "$schema": "https://example.org/my-dialect"})
    with pytest.raises(InvalidDocument, match="not a valid JSON Schema"):
        validate_against(instance, {"type": "no-such-type"})


def test_format_is_checked() -> None:
    errors = validate_against({"credentialSubject": {"degree": {"name": "abc"}}, "validUntil": "soon"},
                              DEGREE_SCHEMA)
    assert [e.extra["path"] for e in errors] == ["/validUntil"]


def test_missing_resolver_or_unknown_schema_fails_the_check() -> None:
    document = _signed()
    no_resolver = verify(document, now=NOW).check("schema")
    assert no_resolver is not None and no_resolver.errors[0].extra["reason"] == "no-schema-resolver"
    unknown = verify(document, now=NOW, schema_resolver={}.__getitem__).check("schema")
    assert unknown is not None and unknown.errors[0].code == "not-found"


def test_refs_resolve_only_through_the_resolver() -> None:
    name_schema = {"$id": "https://schemas.example/name.json", "type": "string", "minLength": 3}
    schema = {"type": "object", "properties": {"credentialSubject": {"properties": {"degree": {
        "properties": {"name": {"$ref": "https://schemas.example/name.json"}}}}}}}
    table = {SCHEMA_URL: schema, "https://schemas.example/name.json": name_schema}
    bad = _signed({"id": "did:example:alice", "degree": {"name": "BS"}})
    errors = check_credential_schemas(bad, table.__getitem__)
    assert [e.extra.get("path") for e in errors] == ["/credentialSubject/degree/name"]
    network = {**schema, "properties": {"credentialSubject": {"$ref": "https://json.example/remote.json"}}}
    errors = check_credential_schemas(bad, {SCHEMA_URL: network}.__getitem__)
    assert errors and "cannot be resolved" in errors[0].detail


def test_retrievals_are_bounded() -> None:
    def chain(uri: str) -> dict[str, Any]:
        number = int(uri.rsplit("/", 1)[1]) if uri != SCHEMA_URL else 0
        return {"$id": uri, "$ref": f"https://schemas.example/chain/{number + 1}"}

    errors = check_credential_schemas(_signed(), chain)
    assert errors and str(MAX_SCHEMA_RETRIEVALS) in errors[0].detail


def test_json_schema_credential_must_verify() -> None:
    schema_key = key(4)
    schema_credential = issue(credential(
        did(schema_key), type=["VerifiableCredential", "JsonSchemaCredential"],
        credentialSubject={"id": SCHEMA_URL + "#subject", "type": "JsonSchema", "jsonSchema": DEGREE_SCHEMA}),
        secret_key=schema_key.multikey, suite="eddsa-jcs-2022", created=CREATED)
    bad = _signed({"id": "did:example:alice", "degree": {"name": "BS"}}, "JsonSchemaCredential")
    good = _signed(None, "JsonSchemaCredential")
    resolve = {SCHEMA_URL: schema_credential}.__getitem__
    assert verify(good, now=NOW, schema_resolver=resolve).verified
    assert not verify(bad, now=NOW, schema_resolver=resolve).verified
    forged = tampered(schema_credential, ("credentialSubject", "jsonSchema", "required"), [])
    check = verify(good, now=NOW, schema_resolver={SCHEMA_URL: forged}.__getitem__).check("schema")
    assert check is not None and check.errors[0].extra["reason"] == "schema-credential-unverified"


def test_unsupported_schema_type() -> None:
    document = credential("did:example:issuer", credentialSchema={"id": SCHEMA_URL, "type": "ShaclSchema"})
    errors = check_credential_schemas(document, {SCHEMA_URL: DEGREE_SCHEMA}.__getitem__)
    assert errors[0].extra["reason"] == "unsupported-schema-type"
