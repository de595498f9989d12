"""The ledger core (pure): operations, authorization, deterministic state transition, Merkle proofs.

* :mod:`formats` — versioned wire/hash/sign bytes of headers, blocks and QCs (``docs/formats.md``).
* :mod:`operations` / :mod:`author` — signed operation envelopes; building and signing them.
* :mod:`execute` — ``execute_block`` (validators), ``build_block`` (proposer), ``check_operation``
  (mempool); rules in :mod:`rules_did`, :mod:`rules_registry`, :mod:`rules_validators`, with
  :mod:`authorize` and :mod:`status_credential`.
* :mod:`state` / :mod:`records` / :mod:`queries` — the store contract (``StateReader``), the in-memory
  state, state keys and RFC 8785 records, typed reads; :mod:`genesis`.
* :mod:`smt` / :mod:`smt_pages` — sparse Merkle tree, proofs, page storage; :mod:`merkle` — RFC 6962.
* :mod:`certified` — verifying a single-node read ``{value, smt_proof, header, qc}``.
* :mod:`status_index` — random status list index allocation.
"""
