"""OpenAPI paths of the W3C VC API part: issue, verify, status, status lists, issuers, cryptosuites."""

from __future__ import annotations

from typing import Any

from ledgr.api.openapi import examples as ex
from ledgr.api.openapi.common import body, ok, operation, param, ref

TAG = "Credentials"
STATUS_TAG = "Status lists"
ISSUERS_TAG = "Issuers"

CRYPTOSUITES = [
    {"name": "eddsa-rdfc-2022", "proofType": "DataIntegrityProof", "issue": True, "verify": True},
    {"name": "eddsa-jcs-2022", "proofType": "DataIntegrityProof", "issue": True, "verify": True},
    {"name": "Ed25519Signature2020", "proofType": "Ed25519Signature2020", "issue": True, "verify": True},
]


def issuer_example() -> dict[str, Any]:
    return {"did": ex.ISSUER_DID, "label": "Gemeente Voorbeeld", "created": ex.EARLIER,
            "verificationMethod": ex.ISSUER_VM,
            "keys": [{"id": ex.ISSUER_VM, "type": "Multikey", "publicKeyMultibase": ex.ISSUER_MULTIKEY,
                      "created": ex.EARLIER, "retired": None}],
            "cryptosuites": [c["name"] for c in CRYPTOSUITES], "statusLists": [ex.STATUS_LIST_URL]}


def vc_paths() -> dict[str, Any]:
    checks: list[dict[str, Any]] = [{"check": name, "verified": True, "errors": []}
              for name in ("proof", "issuer-binding", "validity", "status")]
    verified = {"verified": True, "type": "VerifiableCredential", "checks": checks, "warnings": [],
                "errors": []}
    status_list_vc = {
        "@context": [ex.VC_CONTEXT], "id": ex.STATUS_LIST_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"], "issuer": ex.ISSUER_DID,
        "validFrom": ex.TIME,
        "credentialSubject": {"id": f"{ex.STATUS_LIST_URL}#list", "type": "BitstringStatusList",
                              "statusPurpose": "revocation", "encodedList": ex.ENCODED_EMPTY_LIST},
        "proof": ex.PROOF,
    }
    return {
        "/credentials/issue": {"post": operation(
            op_id="issueCredential", access="issue", tag=TAG, summary="Issue (sign) a credential",
            description="Signs `credential` as its `issuer` with the issuer's active key from the node's "
                        "keystore. `options.cryptosuite` picks the suite; `options.credentialStatus` adds "
                        "a Bitstring Status List entry from one of the issuer's lists. The token must hold "
                        "`issue:<issuer DID>`: an issuer token can never sign as another issuer.",
            request_body=body(ref("IssueRequest"),
                              {"credential": ex.CREDENTIAL,
                               "options": {"cryptosuite": "eddsa-rdfc-2022",
                                           "credentialStatus": {"statusPurpose": "revocation"}}},
                              description="the unsigned credential and issuing options"),
            responses={"201": ok("The signed credential", ref("IssueResponse"),
                                 {"verifiableCredential": ex.VERIFIABLE_CREDENTIAL})},
            errors=(404, 422))},
        "/credentials/verify": {"post": operation(
            op_id="verifyCredential", access="read", tag=TAG, summary="Verify a credential",
            description="Checks every proof (proof sets verify independently), the issuer's key as "
                        "resolved from the ledger at the proof's `created` time (key rotation; compromised "
                        "keys never verify), validity dates, the JSON Schema if any (a DID-linked "
                        "resource), and the status entry against this node's own ledger. As in the VC "
                        "API, 200 means the verification ran: `verified` says whether every check passed "
                        "and `checks` what failed. Input that cannot be verified at all (not a "
                        "credential, an unknown JSON-LD context, an undefined term) is a 400 problem "
                        "whose `errors` list the faults; a document beyond a processing limit (e.g. a "
                        "poisoned blank-node graph) is a 422.",
            request_body=body(ref("VerifyCredentialRequest"),
                              {"verifiableCredential": ex.VERIFIABLE_CREDENTIAL},
                              description="the credential to verify"),
            responses={"200": ok("Verified", ref("VerificationResult"), verified)},
            errors=(422,))},
        "/presentations/verify": {"post": operation(
            op_id="verifyPresentation", access="read", tag=TAG, summary="Verify a presentation",
            description="Verifies the holder's proof, which must carry the given `challenge` (and "
                        "`domain`, when given), then every credential in it. 200 with the result: a "
                        "replayed (other challenge) or wrong-domain presentation has `verified: false`. "
                        "Malformed input is a 400.",
            request_body=body(ref("VerifyPresentationRequest"),
                              {"verifiablePresentation": ex.PRESENTATION,
                               "options": {"challenge": ex.PRESENTATION["proof"]["challenge"],
                                           "domain": ex.PRESENTATION["proof"]["domain"]}},
                              description="the presentation and the expected challenge and domain"),
            responses={"200": ok("Verified", ref("VerificationResult"),
                                 {**verified, "type": "VerifiablePresentation",
                                  "credentialResults": [verified]})},
            errors=(422,))},
        "/credentials/status": {"post": operation(
            op_id="updateCredentialStatus", access="status",
            tag=STATUS_TAG, summary="Revoke, suspend or unsuspend",
            description="Sets or clears the credential's bit in its status list and writes the re-signed "
                        "status list credential to the ledger. Waits for commit (bounded) before "
                        "answering. Revocation is final: unsuspend applies to suspension lists only.",
            request_body=body(ref("UpdateStatusRequest"),
                              {"credentialId": ex.CREDENTIAL_ID, "credentialStatus": ex.STATUS_ENTRY,
                               "action": "revoke"},
                              description="the credential's status entry and the change"),
            responses={"200": ok("Status changed", ref("UpdateStatusResponse"),
                                 {"statusListCredential": ex.STATUS_LIST_URL, "statusListIndex": "94567",
                                  "statusPurpose": "revocation", "set": True,
                                  "operationHash": ex.OPERATION_HASH})},
            errors=(404, 409, 422))},
        "/status-lists": {"post": operation(
            op_id="createStatusList", access="issue",
            tag=STATUS_TAG, summary="Create a status list for an issuer",
            description="Creates a Bitstring Status List (≥ 131,072 entries) owned by the issuer on the "
                        "ledger, signed by the issuer's key. Its `statusListCredential` URL uses the "
                        "node's `public_base_url`.",
            request_body=body(ref("CreateStatusListRequest"),
                              {"issuer": ex.ISSUER_DID, "statusPurpose": "revocation"},
                              description="owner and purpose"),
            responses={"201": ok("Created", ref("StatusListCreated"),
                                 {"id": ex.STATUS_LIST_ID, "statusListCredential": ex.STATUS_LIST_URL,
                                  "operationHash": ex.OPERATION_HASH},
                                 headers={"Location": {"$ref": "#/components/headers/Location"}})},
            errors=(404, 409, 422))},
        "/status-lists/{id}": {"get": operation(
            op_id="getStatusList", access="public", tag=STATUS_TAG, summary="A status list credential",
            description="The issuer-signed BitstringStatusListCredential as committed on this node's "
                        "ledger (every node answers, never by fetching from another).",
            parameters=[param("StatusListId")],
            responses={"200": ok("The status list credential", ref("BitstringStatusListCredential"),
                                 status_list_vc, media="application/vc+ld+json")},
            errors=(404,))},
        "/issuers": {
            "get": operation(
                op_id="listIssuers", access="read", tag=ISSUERS_TAG, summary="Issuers on this node",
                description="Discovery: the issuers whose keys this node holds, with their public keys "
                            "(active and retired), cryptosuites and status lists. Never private keys.",
                responses={"200": ok("The issuers", {"type": "array", "items": ref("Issuer")},
                                     [issuer_example()])}),
            "post": operation(
                op_id="createIssuer", access="admin",
                tag=ISSUERS_TAG, summary="Create or import an issuer key",
                description="Generates an Ed25519 key in the node's encrypted keystore (or imports "
                            "`secretKeyMultibase`) for a did:key issuer, or for a did:ledgr given in "
                            "`did`. The private key is never returned.",
                request_body=body(ref("IssuerCreateRequest"), {"label": "Gemeente Voorbeeld",
                                                               "did": ex.ISSUER_DID},
                                  description="label and optional DID or key to import"),
                responses={"201": ok("Created", ref("Issuer"), issuer_example(),
                                     headers={"Location": {"$ref": "#/components/headers/Location"}})},
                errors=(409, 422)),
        },
        "/issuers/{did}": {"get": operation(
            op_id="getIssuer", access="read", tag=ISSUERS_TAG, summary="One issuer",
            description="Public information about one issuer held by this node.",
            parameters=[param("Did")],
            responses={"200": ok("The issuer", ref("Issuer"), issuer_example())},
            errors=(404,))},
        "/issuers/{did}/keys": {"post": operation(
            op_id="rotateIssuerKey", access="admin", tag=ISSUERS_TAG, summary="Rotate an issuer's key",
            description="Generates a new active key; the old key is retired but its public information "
                        "stays (and stays in the DID's history), so credentials signed before keep "
                        "verifying. did:key issuers cannot rotate (422).",
            parameters=[param("Did")],
            request_body=body({"type": "object"}, {}, description="empty object"),
            responses={"201": ok("Rotated", ref("KeyRotationResult"),
                                 {"issuer": issuer_example(), "publicKeyMultibase": ex.NEXT_MULTIKEY})},
            errors=(404, 422))},
        "/discovery": {"get": operation(
            op_id="getDiscovery", access="read",
            tag=ISSUERS_TAG, summary="Issuers and supported cryptosuites",
            description="What this node offers: its issuers (public information only) and the proof "
                        "suites it issues and verifies.",
            responses={"200": ok("Issuers and suites", ref("Discovery"),
                                 {"issuers": [issuer_example()], "cryptosuites": CRYPTOSUITES})})},
    }
