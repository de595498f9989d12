"""Model-based test: the ledger's DID and resource rules against an independent, minimal oracle."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgr.did.ledgr_method import derive_did
from ledgr.did.resolver import resolve
from ledgr.ledger.records import LedgerDidReader
from tests.unit.ledger.chain import Chain, did_template, document_for, key

KEYS = [key(f"model-{i}") for i in range(3)]


@dataclass
class ModelDid:
    holder: int
    document: dict[str, Any]
    versions: int = 1
    deactivated: bool = False


# (kind, which DID / key, new key, signer: 0-2 a fixed key, 3-5 the current holder, stale prev?)
ACTION = st.tuples(st.sampled_from(["create", "update", "update", "deactivate", "resource"]),
                   st.integers(0, 2), st.integers(0, 2), st.integers(0, 5),
                   st.integers(0, 3).map(lambda x: x == 0))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ACTION, min_size=5, max_size=30))
def test_rules_match_the_model(actions: list[tuple[str, int, int, int, bool]]) -> None:
    """Every operation's outcome is the oracle's; the final resolutions and resources agree."""
    chain = Chain.start()
    model: dict[str, ModelDid] = {}
    resources: set[tuple[str, int]] = set()
    order: list[str] = []
    for kind, a, b, c, stale in actions:
        if kind == "create":
            template = did_template(KEYS[a], extra={"alsoKnownAs": [f"urn:model:{b}"]})
            did = derive_did(template)
            env = chain.op("did.create", did, {"document": template}, KEYS[a], f"{did}#key-1")
            expected = did not in model
            if expected:
                model[did] = ModelDid(holder=a, document=document_for(
                    did, KEYS[a], extra={"alsoKnownAs": [f"urn:model:{b}"]}))
                order.append(did)
        else:
            if not order:
                continue
            did = order[a % len(order)]
            entry = model[did]
            head = LedgerDidReader(chain.state).did_head(did)
            assert head is not None
            prev = hashlib.sha256(b"stale").digest() if stale else bytes.fromhex(head.version_hash)
            c = entry.holder if c >= 3 else c
            live_and_signed = not entry.deactivated and KEYS[c] is KEYS[entry.holder]
            if kind == "update":
                env = chain.op("did.update", did, {"document": document_for(did, KEYS[b])}, KEYS[c],
                               f"{did}#key-1", prev=prev)
                expected = live_and_signed and not stale
                if expected:
                    entry.holder, entry.versions = b, entry.versions + 1
                    entry.document = document_for(did, KEYS[b])
            elif kind == "deactivate":
                env = chain.op("did.deactivate", did, {}, KEYS[c], f"{did}#key-1", prev=prev)
                expected = live_and_signed and not stale
                if expected:
                    entry.deactivated, entry.versions = True, entry.versions + 1
            else:
                body = {"name": "r", "mediaType": "application/json", "content": {"b": b}}
                env = chain.op("resource.create", f"{did}/resources/r{b}", body, KEYS[c], f"{did}#key-1")
                expected = live_and_signed and (did, b) not in resources
                if expected:
                    resources.add((did, b))
        block, _ = chain.commit([env])
        assert (len(block.operations) == 1) == expected, (kind, chain.check(env))
    reader = LedgerDidReader(chain.state)
    for did, entry in model.items():
        result = resolve(did, reader)
        assert result.document_metadata["versionId"] == str(entry.versions)
        assert result.document_metadata.get("deactivated", False) == entry.deactivated
        if not entry.deactivated:
            assert result.did_document == entry.document
        for b in range(3):
            assert (reader.did_resource(did, f"r{b}") is not None) == ((did, b) in resources)
