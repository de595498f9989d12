"""Verifiable Credentials (pure): contexts, canonicalization, proofs, credentials, presentations,
JSON Schema checks and Bitstring Status Lists. The public API is re-exported here."""
