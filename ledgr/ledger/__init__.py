"""The ledger core (pure): operations, authorization, deterministic state transition, Merkle proofs.

Layout: :mod:`formats` (versioned wire/hash/sign bytes of headers, blocks and QCs), :mod:`operations`
(signed operation envelopes), :mod:`execute` (``execute_block``/``build_block``), :mod:`smt` (sparse
Merkle tree), :mod:`merkle` (RFC 6962 tree for ``tx_root``), :mod:`state` (the reader contract and
an in-memory state), :mod:`certified` (verifying a single-node read). See ``docs/formats.md``.
"""
