"""What the issuer/verifier pool's worker processes run: canonicalize+hash for issuing, whole verifications.

RDFC-1.0 canonicalization costs milliseconds per credential; on the node's event loop a burst of issuing
would hold the GIL and delay consensus timers and peer sockets. So it runs here, in processes started
with ``spawn`` (the parent has LMDB open; a forked LMDB environment is undefined behaviour).

Issuing: the worker validates the credential and computes the suite's hash data
(:func:`ledgr.vc.issue.prepare_issue`); the *node* signs that hash with the keystore's signer and adds
``proofValue``. Private keys therefore never leave the keystore's process (docs/api.md "Signing").

Verifying: the worker opens the node's store read-only and verifies against one snapshot: DIDs resolve
from ledger state at each proof's ``created`` time (key rotation) with compromised keys stripped
(docs/did-method.md §4), status lists come from the ledger (never fetched), JSON Schemas from
DID-linked resources.

Jobs come in batches (one IPC round trip for many small jobs); each answer is ``(True, value)`` or
``(False, (error class name, detail, extra))``, rebuilt into the same :mod:`ledgr.errors` exception.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime
from typing import Any

from ledgr.crypto import PublicKey
from ledgr.did.dereference import dereference
from ledgr.did.resolver import did_resolver
from ledgr.errors import LedgrError, TooLarge
from ledgr.ledger.queries import status_list_fetcher
from ledgr.ledger.records import LedgerDidReader
from ledgr.node import gcpolicy
from ledgr.node.resolution import end_of_second
from ledgr.store.store import Store
from ledgr.store.view import StoreView
from ledgr.vc.issue import prepare_issue
from ledgr.vc.verify import verify

ErrorInfo = tuple[str, str, dict[str, Any]]
Job = tuple[str, dict[str, Any]]
Answer = tuple[bool, Any]

PARENT_POLL_S = 0.2

_log = logging.getLogger("ledgr.vc_worker")
_store: Store | None = None
_data_dir: str | None = None


def init(data_dir: str, parent_pid: int) -> None:
    global _data_dir
    _data_dir = data_dir
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()


def _exit_with_parent(parent_pid: int) -> None:
    """Leave as soon as the node is gone (SIGKILL included): a pool worker would otherwise outlive it,
    blocked on a queue whose write end it holds itself."""
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_S)
    os._exit(0)


def _open() -> Store:
    global _store
    if _store is None:
        if _data_dir is None:
            raise LookupError("the worker has no data directory")
        _store = Store.open(_data_dir, readonly=True, check=False)
    return _store


def ping() -> bool:
    return True


def run_batch(jobs: list[Job]) -> list[Answer]:
    answers = [_run(kind, args) for kind, args in jobs]
    gcpolicy.tick_process()
    return answers


def _run(kind: str, args: dict[str, Any]) -> Answer:
    try:
        if kind == "issue":
            return True, prepare_issue(args["credential"], public_key=PublicKey.from_multikey(args["key"]),
                                       suite=args["suite"], verification_method=args["method"],
                                       created=args["created"])
        if kind == "verify":
            return True, _verify_with_store(args)
        return False, ("InvalidInput", f"unknown job {kind}", {})
    except TooLarge as exc:  # a processing limit of the engine (not the body size): 422, not 413
        return False, ("Unprocessable", exc.detail, dict(exc.extra))
    except LedgrError as exc:
        return False, (type(exc).__name__, exc.detail, dict(exc.extra))
    except RecursionError:
        return False, ("Unprocessable", "the document is nested too deeply", {})
    except Exception:  # a bug or an input the engine did not anticipate: never a 500 with internals
        _log.exception("vc worker job %s failed", kind)
        return False, ("Unprocessable", "the document could not be processed", {})


def _verify_with_store(args: dict[str, Any]) -> dict[str, Any]:
    global _store
    try:
        store = _open()
        with store.snapshot() as view:
            return _verify_on(view, args)
    except LedgrError:
        raise
    except OSError:
        if _store is not None:
            _store.close()
        _store = None
        with _open().snapshot() as view:
            return _verify_on(view, args)


def proof_times(document: Any) -> dict[str, set[str]]:
    """DID -> the ``created`` times of the proofs whose verification method is under that DID (in the
    document, its proof(s) and the credentials of a presentation)."""
    out: dict[str, set[str]] = {}
    docs = [document]
    if isinstance(document, dict) and isinstance(document.get("verifiableCredential"), list):
        docs.extend(document["verifiableCredential"][:64])
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        proofs = doc.get("proof")
        for proof in proofs if isinstance(proofs, list) else [proofs]:
            if not isinstance(proof, dict):
                continue
            method, created = proof.get("verificationMethod"), proof.get("created")
            if isinstance(method, str) and method.startswith("did:"):
                did = method.split("#", 1)[0]
                out.setdefault(did, set()).add(created if isinstance(created, str) else "")
    return out


def ledger_resolver(reader: LedgerDidReader, times: dict[str, set[str]]) -> Any:
    """A resolver for ``ledgr.vc.verify``: each DID at its proofs' ``created`` time when they agree
    (a rotated-out key still verifies what it signed before the rotation), else the current version.
    Compromised keys are stripped from every version either way."""
    resolvers: dict[str | None, Any] = {}

    def resolve_did(did: str) -> dict[str, Any]:
        created = times.get(did, set())
        at = end_of_second(next(iter(created))) if len(created) == 1 and "" not in created else None
        if at not in resolvers:
            resolvers[at] = did_resolver(reader, version_time=at)
        result: dict[str, Any] = resolvers[at](did)
        return result

    return resolve_did


def _schema_resolver(reader: LedgerDidReader) -> Any:
    def fetch(url: str) -> dict[str, Any]:
        if not url.startswith("did:"):
            raise LookupError(f"schemas are read from DID-linked resources on the ledger, not {url}")
        result = dereference(url, reader)
        if result.error is not None or not isinstance(result.content, dict):
            raise LookupError(f"no JSON schema at {url}")
        return result.content

    return fetch


def _verify_on(view: StoreView, args: dict[str, Any]) -> dict[str, Any]:
    reader = LedgerDidReader(view)
    document = args["document"]
    result = verify(document, checks=args.get("checks"), now=datetime.fromisoformat(args["now"]),
                    resolver=ledger_resolver(reader, proof_times(document)),
                    status_list_fetcher=status_list_fetcher(view), schema_resolver=_schema_resolver(reader),
                    challenge=args.get("challenge"), domain=args.get("domain"))
    return result.to_json()

