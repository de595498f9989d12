"""Proof suites, pure over key bytes: ``eddsa-rdfc-2022``, ``eddsa-jcs-2022``, ``Ed25519Signature2020``.

:data:`SUITES` maps the suite name a caller asks for to its implementation; :func:`suite_for_proof`
finds the suite of an embedded proof from its ``type`` and ``cryptosuite``.
"""

from __future__ import annotations

from typing import Any

from ledgr.errors import UnsupportedSuite
from ledgr.vc.suites.base import Cryptosuite
from ledgr.vc.suites.ed25519_signature_2020 import Ed25519Signature2020
from ledgr.vc.suites.eddsa_jcs_2022 import EddsaJcs2022
from ledgr.vc.suites.eddsa_rdfc_2022 import EddsaRdfc2022

__all__ = ["SUITES", "Cryptosuite", "suite_by_name", "suite_for_proof"]

SUITES: dict[str, Cryptosuite] = {
    suite.name: suite for suite in (EddsaRdfc2022(), EddsaJcs2022(), Ed25519Signature2020())
}


def suite_by_name(name: str) -> Cryptosuite:
    suite = SUITES.get(name) if isinstance(name, str) else None
    if suite is None:
        raise UnsupportedSuite(f"unsupported suite {name!r}; supported: {', '.join(SUITES)}")
    return suite


def suite_for_proof(proof: dict[str, Any]) -> Cryptosuite:
    """The suite of an embedded proof (DataIntegrityProof by ``cryptosuite``, else by ``type``)."""
    proof_type = proof.get("type")
    if proof_type == "DataIntegrityProof":
        cryptosuite = proof.get("cryptosuite")
        suite = SUITES.get(cryptosuite) if isinstance(cryptosuite, str) else None
        if suite is None or suite.proof_type != "DataIntegrityProof":
            raise UnsupportedSuite(f"unsupported cryptosuite {cryptosuite!r}; supported: "
                                   "eddsa-rdfc-2022, eddsa-jcs-2022")
        return suite
    if proof_type == "Ed25519Signature2020":
        return SUITES["Ed25519Signature2020"]
    raise UnsupportedSuite(f"unsupported proof type {proof_type!r}")
