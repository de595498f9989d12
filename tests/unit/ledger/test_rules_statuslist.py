"""statuslist.create / statuslist.update: only the owning issuer's assertionMethod key changes a list."""

from __future__ import annotations

import copy
import gzip
from typing import Any

import pytest

from ledgr.crypto.keys import PrivateKey
from ledgr.crypto.multibase import encode_base64url
from ledgr.ledger.records import StatusListRecord, decode
from ledgr.ledger.state import status_list_key
from ledgr.vc.status_list import StatusList
from tests.unit.ledger.chain import Chain, did_template, key, status_credential

ISSUER, OTHER, MALLORY = key("issuer"), key("issuer-2"), key("mallory")
LIST = "https://issuer.example/v1/status-lists/3f2a"


@pytest.fixture
def chain() -> Chain:
    return Chain.start()


def ledgr_issuer(chain: Chain, *keys: PrivateKey) -> str:
    did, env = chain.create_did(*(keys or (ISSUER,)))
    chain.accept(env)
    return did


def publish(chain: Chain, credential: dict[str, Any], signer: PrivateKey, vm: str,
            prev: bytes | None = None) -> bytes:
    op_type = "statuslist.create" if prev is None else "statuslist.update"
    return chain.op(op_type, credential["id"], {"credential": credential}, signer, vm, prev=prev)


def record(chain: Chain, list_id: str = LIST) -> StatusListRecord:
    raw = chain.state.get(status_list_key(list_id))
    assert raw is not None
    return StatusListRecord.from_json(decode(raw))


def test_did_ledgr_issuer_creates_and_revokes(chain: Chain) -> None:
    did = ledgr_issuer(chain)
    vm = f"{did}#key-1"
    chain.accept(publish(chain, status_credential(LIST, did, vm, ISSUER), ISSUER, vm))
    stored = record(chain)
    assert (stored.issuer, stored.purpose, stored.size_bits) == (did, "revocation", 131_072)
    revoked = status_credential(LIST, did, vm, ISSUER, revoked=(42,))
    chain.accept(publish(chain, revoked, ISSUER, vm, prev=bytes.fromhex(stored.version_hash)))
    encoded = record(chain).credential["credentialSubject"]["encodedList"]
    assert StatusList.decode(encoded).get(42) == 1
    assert record(chain).created_ms == stored.created_ms < record(chain).updated_ms


def test_did_key_issuer(chain: Chain) -> None:
    did = "did:key:" + ISSUER.public_key.multikey
    vm = f"{did}#{ISSUER.public_key.multikey}"
    chain.accept(publish(chain, status_credential(LIST, did, vm, ISSUER), ISSUER, vm))
    assert record(chain).issuer == did
    forged = status_credential(LIST, did, vm, MALLORY, revoked=(1,))
    assert chain.check(publish(chain, forged, MALLORY, vm,
                               prev=bytes.fromhex(record(chain).version_hash))) == "bad-signature"


def test_attacker_cannot_take_over_a_list(chain: Chain) -> None:
    did = ledgr_issuer(chain)
    vm = f"{did}#key-1"
    chain.accept(publish(chain, status_credential(LIST, did, vm, ISSUER), ISSUER, vm))
    prev = bytes.fromhex(record(chain).version_hash)
    mallory = "did:key:" + MALLORY.public_key.multikey
    mallory_vm = f"{mallory}#{MALLORY.public_key.multikey}"
    # Mallory re-issues the list under her own DID: the list's owner never changes
    hijack = status_credential(LIST, mallory, mallory_vm, MALLORY)
    assert chain.check(publish(chain, hijack, MALLORY, mallory_vm, prev=prev)) == "unauthorized-key"
    # Mallory signs the envelope with her key but claims the issuer's method
    claimed = status_credential(LIST, did, vm, ISSUER, revoked=(7,))
    assert chain.check(publish(chain, claimed, MALLORY, vm, prev=prev)) == "bad-signature"
    # a valid envelope but a credential proof by a key that is not the issuer's
    wrong_proof = status_credential(LIST, did, vm, MALLORY, revoked=(7,))
    assert chain.check(publish(chain, wrong_proof, ISSUER, vm, prev=prev)) == "invalid-status-proof"
    # tampering with the signed bits after signing
    tampered = copy.deepcopy(status_credential(LIST, did, vm, ISSUER))
    unrevoked = StatusList(131_072)
    unrevoked.set(7)
    tampered["credentialSubject"]["encodedList"] = unrevoked.encode()
    assert chain.check(publish(chain, tampered, ISSUER, vm, prev=prev)) == "invalid-status-proof"
    assert record(chain).version_hash == prev.hex()


def test_only_assertion_method_keys(chain: Chain) -> None:
    template = did_template(ISSUER, OTHER)
    template["assertionMethod"] = ["did:ledgr:{SCID}#key-1"]
    from ledgr.did.ledgr_method import derive_did
    did = derive_did(template)
    chain.accept(chain.op("did.create", did, {"document": template}, ISSUER, f"{did}#key-1"))
    vm2 = f"{did}#key-2"
    credential = status_credential(LIST, did, vm2, OTHER)
    assert chain.check(publish(chain, credential, OTHER, vm2)) == "unauthorized-key"
    proof_by_auth_key = status_credential(LIST, did, vm2, OTHER)
    assert chain.check(publish(chain, proof_by_auth_key, ISSUER, f"{did}#key-1")) == "invalid-status-proof"


def test_list_rules(chain: Chain) -> None:
    did = ledgr_issuer(chain)
    vm = f"{did}#key-1"
    good = status_credential(LIST, did, vm, ISSUER)
    chain.accept(publish(chain, good, ISSUER, vm))
    assert chain.check(publish(chain, good, ISSUER, vm)) == "status-list-exists"
    prev = bytes.fromhex(record(chain).version_hash)
    update = publish(chain, status_credential(LIST, did, vm, ISSUER, revoked=(3,)), ISSUER, vm, prev=prev)
    chain.accept(update)
    assert chain.check(update) == "prev-mismatch"
    stale = publish(chain, status_credential(LIST, did, vm, ISSUER, revoked=(4,)), ISSUER, vm, prev=prev)
    assert chain.check(stale) == "prev-mismatch"
    prev = bytes.fromhex(record(chain).version_hash)
    purpose = status_credential(LIST, did, vm, ISSUER, purpose="suspension")
    assert chain.check(publish(chain, purpose, ISSUER, vm, prev=prev)) == "status-list-immutable-field"
    bigger = status_credential(LIST, did, vm, ISSUER, entries=262_144)
    assert chain.check(publish(chain, bigger, ISSUER, vm, prev=prev)) == "status-list-immutable-field"
    missing = status_credential(LIST + "-x", did, vm, ISSUER)
    assert chain.check(publish(chain, missing, ISSUER, vm, prev=prev)) == "status-list-not-found"


def test_credential_shape_rules(chain: Chain) -> None:
    did = ledgr_issuer(chain)
    vm = f"{did}#key-1"
    good = status_credential(LIST, did, vm, ISSUER)
    mismatched = chain.op("statuslist.create", LIST + "/other", {"credential": good}, ISSUER, vm)
    assert chain.check(mismatched) == "invalid-target"
    small = status_credential(LIST, did, vm, ISSUER)
    small["credentialSubject"]["encodedList"] = encode_base64url(gzip.compress(bytes(8192), mtime=0))
    assert chain.check(publish(chain, small, ISSUER, vm)) == "invalid-status-credential"
    wrong_purpose = status_credential(LIST, did, vm, ISSUER, purpose="message")
    assert chain.check(publish(chain, wrong_purpose, ISSUER, vm)) == "invalid-status-credential"
    unsigned = {k: v for k, v in good.items() if k != "proof"}
    assert chain.check(publish(chain, unsigned, ISSUER, vm)) == "invalid-status-proof"
    not_a_list = dict(good, type=["VerifiableCredential"])
    assert chain.check(publish(chain, not_a_list, ISSUER, vm)) == "invalid-status-credential"
    unknown = status_credential(LIST, "did:ledgr:PPAkc5QjgV515svzvMcyqF", vm, ISSUER)
    assert chain.check(publish(chain, unknown, ISSUER, "did:ledgr:PPAkc5QjgV515svzvMcyqF#key-1")) \
        == "did-not-found"


def test_deactivated_or_compromised_issuer(chain: Chain) -> None:
    did = ledgr_issuer(chain, ISSUER, OTHER)
    vm1, vm2 = f"{did}#key-1", f"{did}#key-2"
    chain.accept(publish(chain, status_credential(LIST, did, vm1, ISSUER), ISSUER, vm1))
    prev = bytes.fromhex(record(chain).version_hash)
    from tests.unit.ledger.chain import document_for
    chain.accept(chain.op("did.update", did, {"document": document_for(did, OTHER),
                                              "compromisedKeys": [ISSUER.public_key.multikey]},
                          OTHER, vm2, prev=chain.prev(did)))
    old_key = status_credential(LIST, did, vm1, ISSUER, revoked=(9,))
    assert chain.check(publish(chain, old_key, ISSUER, vm1, prev=prev)) == "bad-signature"
    by_new_key_old_proof = chain.op("statuslist.update", LIST, {"credential": old_key}, OTHER, vm1, prev=prev)
    assert chain.check(by_new_key_old_proof) == "invalid-status-proof"
    new_doc_vm = f"{did}#key-1"  # OTHER is key-1 in the new document
    chain.accept(publish(chain, status_credential(LIST, did, new_doc_vm, OTHER, revoked=(9,)), OTHER,
                         new_doc_vm, prev=prev))
    chain.accept(chain.op("did.deactivate", did, {}, OTHER, new_doc_vm, prev=chain.prev(did)))
    late = status_credential(LIST, did, new_doc_vm, OTHER)
    assert chain.check(publish(chain, late, OTHER, new_doc_vm,
                               prev=bytes.fromhex(record(chain).version_hash))) == "did-deactivated"


def test_end_to_end_revocation_through_ledgr_vc(chain: Chain) -> None:
    """Issue a credential with a status entry, revoke it on the ledger, verify with ledgr.vc."""
    from ledgr.did.resolver import did_resolver
    from ledgr.ledger.queries import status_list_fetcher
    from ledgr.ledger.records import LedgerDidReader
    from ledgr.vc import build_status_entry, verify
    from ledgr.vc.proofs import add_proof
    did = ledgr_issuer(chain)
    vm = f"{did}#key-1"
    chain.accept(publish(chain, status_credential(LIST, did, vm, ISSUER), ISSUER, vm))
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
        "issuer": did, "credentialSubject": {"id": "did:example:holder"},
        "credentialStatus": build_status_entry(list_credential=LIST, index=77, status_purpose="revocation"),
    }
    signed = add_proof(credential, private_key=ISSUER, suite="eddsa-jcs-2022", verification_method=vm,
                       created="2026-11-25T08:00:00Z")

    def check() -> bool:
        return verify(signed, checks=["proof", "status"], resolver=did_resolver(LedgerDidReader(chain.state)),
                      status_list_fetcher=status_list_fetcher(chain.state)).verified

    assert check()
    prev = bytes.fromhex(record(chain).version_hash)
    revoked = status_credential(LIST, did, vm, ISSUER, revoked=(77,))
    chain.accept(publish(chain, revoked, ISSUER, vm, prev=prev))
    assert not check()
    with pytest.raises(LookupError):
        status_list_fetcher(chain.state)("https://unknown.example/list")
