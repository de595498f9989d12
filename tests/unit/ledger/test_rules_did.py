"""did.create / did.update / did.deactivate: every authorization rule has an attacker who fails."""

from __future__ import annotations

from typing import Any

from ledgr.crypto import canonicalize
from ledgr.did.ledgr_method import PLACEHOLDER_DID, derive_did
from ledgr.did.records import DidVersion
from ledgr.ledger.records import LedgerDidReader
from tests.unit.ledger.chain import CHAIN_ID, Chain, did_template, document_for, key

ALICE, BOB, MALLORY = key("alice"), key("alice-2"), key("mallory")


def created(chain: Chain, *keys: Any, extra: dict[str, Any] | None = None) -> str:
    did, env = chain.create_did(*(keys or (ALICE,)), extra=extra)
    chain.accept(env)
    return did


def update(chain: Chain, did: str, document: dict[str, Any], signer: Any, vm: str, *,
           prev: bytes | None = None, **body: Any) -> bytes:
    return chain.op("did.update", did, {"document": document, **body}, signer, vm,
                    prev=chain.prev(did) if prev is None else prev)


def version(chain: Chain, did: str, seq: int) -> DidVersion:
    found = LedgerDidReader(chain.state).did_version(did, seq)
    assert found is not None
    return found


def test_create_records_version_one() -> None:
    chain = Chain.start()
    did = created(chain)
    head = chain.head(did)
    assert head.seq == 1 and not head.deactivated
    assert version(chain, did, 1).document == document_for(did, ALICE)
    assert did == derive_did(did_template(ALICE))


def test_identifier_is_self_certifying() -> None:
    chain = Chain.start()
    template = did_template(ALICE)
    squatted = derive_did(did_template(MALLORY))
    env = chain.op("did.create", squatted, {"document": template}, ALICE, f"{squatted}#key-1")
    assert chain.check(env) == "did-not-self-certifying"


def test_create_needs_a_key_of_the_new_document() -> None:
    chain = Chain.start()
    template = did_template(ALICE)
    did = derive_did(template)
    forged = chain.op("did.create", did, {"document": template}, MALLORY, f"{did}#key-1")
    assert chain.check(forged) == "bad-signature"
    outside = chain.op("did.create", did, {"document": template}, MALLORY, f"{did}#key-9")
    assert chain.check(outside) == "unauthorized-key"
    only_assertion = did_template(ALICE)
    only_assertion["authentication"] = []
    del only_assertion["authentication"]
    del only_assertion["capabilityInvocation"]
    did2 = derive_did(only_assertion)
    env = chain.op("did.create", did2, {"document": only_assertion}, ALICE, f"{did2}#key-1")
    assert chain.check(env) == "unauthorized-key"


def test_create_twice_is_rejected() -> None:
    chain = Chain.start()
    did, env = chain.create_did(ALICE)
    chain.accept(env)
    assert chain.check(env) == "did-exists"
    assert did


def test_create_rules_on_documents() -> None:
    chain = Chain.start()
    for extra, rule in [
        ({"name": "Alice Jansen"}, "invalid-document"),
        ({"alsoKnownAs": ["x" * 600]}, "invalid-document"),
        ({"service": [{"id": "#s", "type": "T", "serviceEndpoint": "https://e.example",
                       "note": "x"}]}, "invalid-document"),
        ({"alsoKnownAs": ["https://e.example/" + "x" * 500] * 8,
          "service": [{"id": f"#s{i}", "type": "T", "serviceEndpoint": {"u": "y" * 1900}}
                      for i in range(16)]}, "size-limit"),
    ]:
        template = did_template(ALICE, extra=extra)
        did = derive_did(template)
        env = chain.op("did.create", did, {"document": template}, ALICE, f"{did}#key-1")
        assert chain.check(env) == rule, extra
    template = did_template(ALICE)
    did = derive_did(template)
    assert chain.check(chain.op("did.create", did, {"document": template}, ALICE, f"{did}#key-1",
                                prev=b"\x00" * 32)) == "prev-mismatch"
    assert chain.check(chain.op("did.create", did, {"document": template, "x": 1}, ALICE,
                                f"{did}#key-1")) == "malformed"
    assert chain.check(chain.op("did.create", "did:example:123", {"document": template}, ALICE,
                                f"{did}#key-1")) == "invalid-target"


def test_update_by_controller_and_key_rotation() -> None:
    chain = Chain.start()
    did = created(chain)
    chain.accept(update(chain, did, document_for(did, BOB), ALICE, f"{did}#key-1"))
    assert chain.head(did).seq == 2
    assert version(chain, did, 2).document == document_for(did, BOB)
    # the rotated-out key is useless now, even though the method id is the same
    stale_key = update(chain, did, document_for(did, ALICE), ALICE, f"{did}#key-1")
    assert chain.check(stale_key) == "bad-signature"
    chain.accept(update(chain, did, document_for(did, ALICE, BOB), BOB, f"{did}#key-1"))


def test_attacker_cannot_update() -> None:
    chain = Chain.start()
    did = created(chain)
    mallory_did = created(chain, MALLORY)
    assert chain.check(update(chain, did, document_for(did, MALLORY), MALLORY, f"{did}#key-1")) \
        == "bad-signature"
    assert chain.check(update(chain, did, document_for(did, MALLORY), MALLORY,
                              f"{mallory_did}#key-1")) == "unauthorized-key"


def test_assertion_only_key_cannot_update() -> None:
    chain = Chain.start()
    template = did_template(ALICE, BOB)
    template["authentication"] = [f"{PLACEHOLDER_DID}#key-1"]
    template["capabilityInvocation"] = [f"{PLACEHOLDER_DID}#key-1"]
    did = derive_did(template)
    chain.accept(chain.op("did.create", did, {"document": template}, ALICE, f"{did}#key-1"))
    env = update(chain, did, document_for(did, BOB), BOB, f"{did}#key-2")
    assert chain.check(env) == "unauthorized-key"


def test_stale_prev_and_replay_rejected() -> None:
    chain = Chain.start()
    did = created(chain)
    first = update(chain, did, document_for(did, ALICE, BOB), ALICE, f"{did}#key-1")
    chain.accept(first)
    assert chain.check(first) == "prev-mismatch"
    stale = update(chain, did, document_for(did, ALICE), ALICE, f"{did}#key-1",
                   prev=bytes.fromhex(version(chain, did, 1).version_hash))
    assert chain.check(stale) == "prev-mismatch"
    no_prev = chain.op("did.update", did, {"document": document_for(did, ALICE)}, ALICE, f"{did}#key-1")
    assert chain.check(no_prev) == "prev-mismatch"


def test_wrong_chain_and_expired() -> None:
    chain = Chain.start()
    did = created(chain)
    other_chain = chain.op("did.update", did, {"document": document_for(did, BOB)}, ALICE,
                           f"{did}#key-1", prev=chain.prev(did), chain_id="other-chain")
    assert chain.check(other_chain) == "wrong-chain"
    expired = chain.op("did.update", did, {"document": document_for(did, BOB)}, ALICE, f"{did}#key-1",
                       prev=chain.prev(did), valid_until=chain.height)
    assert chain.check(expired) == "expired"
    just_in_time = chain.op("did.update", did, {"document": document_for(did, BOB)}, ALICE,
                            f"{did}#key-1", prev=chain.prev(did), valid_until=chain.height + 1)
    assert chain.check(just_in_time) is None


def test_external_controller() -> None:
    chain = Chain.start()
    boss = created(chain, BOB)
    template = did_template(ALICE, extra={"controller": [boss]})
    did = derive_did(template)
    chain.accept(chain.op("did.create", did, {"document": template}, ALICE, f"{did}#key-1"))
    # Alice's own key no longer controls: the controller list does not name the DID itself
    own = update(chain, did, document_for(did, ALICE, extra={"controller": [boss]}), ALICE, f"{did}#key-1")
    assert chain.check(own) == "unauthorized-key"
    chain.accept(update(chain, did, document_for(did, MALLORY, extra={"controller": [boss]}), BOB,
                        f"{boss}#key-1"))
    # once the controller is deactivated, its keys control nothing
    chain.accept(chain.op("did.deactivate", boss, {}, BOB, f"{boss}#key-1", prev=chain.prev(boss)))
    late = update(chain, did, document_for(did, ALICE, extra={"controller": [boss]}), BOB, f"{boss}#key-1")
    assert chain.check(late) == "did-deactivated"


def test_did_key_controller() -> None:
    chain = Chain.start()
    controller = "did:key:" + BOB.public_key.multikey
    template = did_template(ALICE, extra={"controller": controller})
    did = derive_did(template)
    chain.accept(chain.op("did.create", did, {"document": template}, ALICE, f"{did}#key-1"))
    vm = f"{controller}#{BOB.public_key.multikey}"
    chain.accept(update(chain, did, document_for(did, ALICE, extra={"controller": controller}), BOB, vm))
    assert chain.check(update(chain, did, document_for(did, ALICE), MALLORY, vm)) == "bad-signature"


def test_deactivated_did_cannot_change() -> None:
    chain = Chain.start()
    did = created(chain)
    chain.accept(chain.op("did.deactivate", did, {}, ALICE, f"{did}#key-1", prev=chain.prev(did)))
    head = chain.head(did)
    assert head.deactivated and head.seq == 2
    assert version(chain, did, 2).document == {"@context": "https://www.w3.org/ns/did/v1", "id": did}
    for env in (update(chain, did, document_for(did, ALICE), ALICE, f"{did}#key-1"),
                chain.op("did.deactivate", did, {}, ALICE, f"{did}#key-1", prev=chain.prev(did))):
        assert chain.check(env) == "did-deactivated"


def test_attacker_cannot_deactivate() -> None:
    chain = Chain.start()
    did = created(chain)
    env = chain.op("did.deactivate", did, {}, MALLORY, f"{did}#key-1", prev=chain.prev(did))
    assert chain.check(env) == "bad-signature"


def test_compromised_keys() -> None:
    chain = Chain.start()
    did = created(chain, ALICE, BOB)
    # a key cannot declare itself compromised while signing
    self_mark = update(chain, did, document_for(did, BOB), ALICE, f"{did}#key-1",
                       compromisedKeys=[ALICE.public_key.multikey])
    assert chain.check(self_mark) == "compromised-key"
    # the new document may not keep a key it declares compromised
    keep = update(chain, did, document_for(did, ALICE, BOB), BOB, f"{did}#key-2",
                  compromisedKeys=[ALICE.public_key.multikey])
    assert chain.check(keep) == "compromised-key"
    chain.accept(update(chain, did, document_for(did, BOB), BOB, f"{did}#key-2",
                        compromisedKeys=[ALICE.public_key.multikey]))
    head = chain.head(did)
    assert [c.public_key_multibase for c in head.compromised] == [ALICE.public_key.multikey]
    # it can never come back
    back = update(chain, did, document_for(did, BOB, ALICE), BOB, f"{did}#key-1")
    assert chain.check(back) == "compromised-key"
    bad_entry = update(chain, did, document_for(did, BOB), BOB, f"{did}#key-1", compromisedKeys=["zzz"])
    assert chain.check(bad_entry) == "malformed"
    too_many = update(chain, did, document_for(did, BOB), BOB, f"{did}#key-1",
                      compromisedKeys=[key(f"k{i}").public_key.multikey for i in range(17)])
    assert chain.check(too_many) == "size-limit"


def test_state_values_are_canonical_json() -> None:
    chain = Chain.start()
    did = created(chain)
    for key_bytes, value in chain.state.values.items():
        if key_bytes[:1] != b"\x00":
            import json
            assert canonicalize(json.loads(value)) == value
    assert CHAIN_ID and did


def test_placeholder_only_in_values() -> None:
    chain = Chain.start()
    template = did_template(ALICE, extra={"service": [{
        "id": "#svc", "type": "LinkedDomains", "serviceEndpoint": {PLACEHOLDER_DID: "https://e.example"}}]})
    did = derive_did(template)
    env = chain.op("did.create", did, {"document": template}, ALICE, f"{did}#key-1")
    assert chain.check(env) == "invalid-document"
