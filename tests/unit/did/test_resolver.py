"""DID resolution and dereferencing: metadata, versionId/versionTime, compromised keys, resources."""

from __future__ import annotations

import pytest

from ledgr.did.dereference import dereference, verification_key
from ledgr.did.resolver import iso_time, parse_time_ms, resolve
from ledgr.errors import DidDeactivated, DidNotFound, VerificationFailed
from ledgr.ledger.records import LedgerDidReader
from tests.unit.ledger.chain import Chain, document_for, key

OLD, NEW, THIRD = key("res-old"), key("res-new"), key("res-third")
SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}}


def history() -> tuple[Chain, str, list[int]]:
    """A DID with three versions: [OLD], [NEW] (rotation), [THIRD] (OLD declared compromised)."""
    chain = Chain.start()
    did, env = chain.create_did(OLD)
    chain.accept(env)
    chain.accept(chain.op("did.update", did, {"document": document_for(did, NEW)}, OLD, f"{did}#key-1",
                          prev=chain.prev(did)))
    chain.accept(chain.op("resource.create", f"{did}/resources/schema-1",
                          {"name": "Schema", "mediaType": "application/schema+json", "content": SCHEMA},
                          NEW, f"{did}#key-1"))
    chain.accept(chain.op("did.update", did, {"document": document_for(did, THIRD, NEW),
                                              "compromisedKeys": [OLD.public_key.multikey]},
                          NEW, f"{did}#key-1", prev=chain.prev(did)))
    times = [b.header.time_ms for b in chain.blocks]
    return chain, did, times


def test_current_resolution_and_metadata() -> None:
    chain, did, times = history()
    result = resolve(did, LedgerDidReader(chain.state))
    assert result.error is None
    assert result.did_document == document_for(did, THIRD, NEW)
    meta = result.document_metadata
    assert meta["created"] == iso_time(times[0]) and meta["updated"] == iso_time(times[3])
    assert meta["versionId"] == "3" and "nextVersionId" not in meta and "deactivated" not in meta
    assert meta["versionHash"] == chain.head(did).version_hash
    assert meta["compromisedKeys"] == [{"publicKeyMultibase": OLD.public_key.multikey,
                                        "since": iso_time(times[3])}]
    out = result.to_json()
    assert out["didResolutionMetadata"] == {"contentType": "application/did+ld+json"}
    assert set(out) == {"@context", "didDocument", "didResolutionMetadata", "didDocumentMetadata"}


def test_version_id_and_next_version() -> None:
    chain, did, times = history()
    reader = LedgerDidReader(chain.state)
    second = resolve(did, reader, version_id="2")
    assert second.did_document == document_for(did, NEW)
    assert second.document_metadata["nextVersionId"] == "3"
    assert second.document_metadata["nextUpdate"] == iso_time(times[3])
    assert resolve(did, reader, version_id="9").error == "notFound"
    assert resolve(did, reader, version_id="x").error == "invalidOptions"


def test_version_time_and_compromised_keys_are_stripped() -> None:
    chain, did, times = history()
    reader = LedgerDidReader(chain.state)
    at_first = resolve(did, reader, version_time=iso_time(times[0] + 500))
    assert at_first.document_metadata["versionId"] == "1"
    # version 1 held only OLD, which is now compromised: no verification method survives
    assert "verificationMethod" not in at_first.did_document  # type: ignore[operator]
    assert "authentication" not in at_first.did_document  # type: ignore[operator]
    at_second = resolve(did, reader, version_time=iso_time(times[1]))
    assert at_second.document_metadata["versionId"] == "2"
    assert at_second.did_document == document_for(did, NEW)
    assert resolve(did, reader, version_time="2000-01-01T00:00:00Z").error == "notFound"
    assert resolve(did, reader, version_time="yesterday").error == "invalidOptions"
    assert resolve(did, reader, version_time=iso_time(times[1]), version_id="1").error == "invalidOptions"


def test_verification_key_honours_time_and_compromise() -> None:
    chain, did, times = history()
    reader = LedgerDidReader(chain.state)
    vm = f"{did}#key-1"
    # a proof dated while NEW was key-1 verifies against NEW, not against the current THIRD
    at_v2 = verification_key(vm, reader, created=iso_time(times[1] + 10))
    assert at_v2.public_key == NEW.public_key
    assert verification_key(vm, reader).public_key == THIRD.public_key
    # OLD was compromised: a proof claiming a date when OLD was valid still finds no key
    with pytest.raises(VerificationFailed):
        verification_key(vm, reader, created=iso_time(times[0] + 10))
    with pytest.raises(VerificationFailed):
        verification_key(f"{did}#key-1", reader, purpose="keyAgreement")
    with pytest.raises(VerificationFailed):
        verification_key(did, reader)
    with pytest.raises(DidNotFound):
        verification_key("did:ledgr:PPAkc5QjgV515svzvMcyqF#key-1", reader)


def test_deactivated() -> None:
    chain, did, times = history()
    chain.accept(chain.op("did.deactivate", did, {}, THIRD, f"{did}#key-1", prev=chain.prev(did)))
    reader = LedgerDidReader(chain.state)
    result = resolve(did, reader)
    assert result.document_metadata["deactivated"] is True
    assert result.did_document == {"@context": "https://www.w3.org/ns/did/v1", "id": did}
    assert resolve(did, reader, version_id="2").document_metadata["deactivated"] is True
    with pytest.raises(DidDeactivated):
        verification_key(f"{did}#key-1", reader, created=iso_time(times[3] + 1))
    old = verification_key(f"{did}#key-1", reader, created=iso_time(times[3] + 1), allow_deactivated=True)
    assert old.public_key == THIRD.public_key


def test_did_key_and_errors() -> None:
    did = "did:key:" + OLD.public_key.multikey
    result = resolve(did)
    assert result.error is None and result.did_document is not None
    assert result.did_document["id"] == did
    assert resolve(did, version_id="2").error == "notFound"
    assert resolve("did:ledgr:PPAkc5QjgV515svzvMcyqF").error == "methodNotSupported"
    assert resolve("did:web:example.org").error == "methodNotSupported"
    assert resolve("not a did").error == "invalidDid"
    assert resolve("did:ledgr:bad").error == "invalidDid"
    assert resolve("did:key:zBad").error == "invalidDid"
    assert verification_key(f"{did}#{OLD.public_key.multikey}").public_key == OLD.public_key


def test_dereferencing() -> None:
    chain, did, _ = history()
    reader = LedgerDidReader(chain.state)
    fragment = dereference(f"{did}#key-1", reader)
    assert fragment.error is None
    assert fragment.content["publicKeyMultibase"] == THIRD.public_key.multikey
    old_fragment = dereference(f"{did}?versionId=2#key-1", reader)
    assert old_fragment.content["publicKeyMultibase"] == NEW.public_key.multikey
    assert dereference(f"{did}#nope", reader).error == "notFound"
    whole = dereference(did, reader)
    assert whole.content == document_for(did, THIRD, NEW)
    resource = dereference(f"{did}/resources/schema-1", reader)
    assert resource.content == SCHEMA
    assert resource.dereferencing_metadata == {"contentType": "application/schema+json"}
    assert resource.content_metadata["name"] == "Schema"
    assert len(resource.content_metadata["digestSha256"]) == 64
    assert dereference(f"{did}/resources/other", reader).error == "notFound"
    assert dereference(f"{did}/elsewhere", reader).error == "notFound"
    assert dereference("did:key:" + OLD.public_key.multikey + "/resources/x").error == "notFound"
    assert dereference("::", reader).error == "invalidDidUrl"
    assert set(resource.to_json()) == {"dereferencingMetadata", "contentStream", "contentMetadata"}


def test_time_parsing() -> None:
    assert parse_time_ms("1970-01-01T00:00:01Z") == 1000
    assert parse_time_ms("1970-01-01T01:00:01.250+01:00") == 1250
    assert parse_time_ms("1970-01-01T00:00:02") == 2000
    assert iso_time(1_764_000_000_999) == "2025-11-24T16:00:00Z"


def test_vc_verification_through_the_ledger_resolver() -> None:
    from ledgr.did.resolver import did_resolver
    from ledgr.vc import verify
    from ledgr.vc.proofs import add_proof
    chain, did, times = history()
    reader = LedgerDidReader(chain.state)
    credential = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                  "issuer": did, "credentialSubject": {"id": "did:example:holder"}}
    signed_new = add_proof(credential, private_key=NEW, suite="eddsa-jcs-2022",
                           verification_method=f"{did}#key-1", created=iso_time(times[1] + 10))
    # NEW was key-1 in version 2 only: verifies when resolved at the proof's created time
    pinned = did_resolver(reader, version_time=iso_time(times[1] + 10))
    at_created = verify(signed_new, checks=["proof"], resolver=pinned)
    assert at_created.verified
    # against the current document (THIRD is key-1 now) the same proof fails
    assert not verify(signed_new, checks=["proof"], resolver=did_resolver(reader)).verified
    # a back-dated proof by the compromised OLD key fails at any time
    signed_old = add_proof(credential, private_key=OLD, suite="eddsa-jcs-2022",
                           verification_method=f"{did}#key-1", created=iso_time(times[0] + 10))
    assert not verify(signed_old, checks=["proof"],
                      resolver=did_resolver(reader, version_time=iso_time(times[0] + 10))).verified
    with pytest.raises(LookupError):
        did_resolver(reader)("did:ledgr:PPAkc5QjgV515svzvMcyqF")
