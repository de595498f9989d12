"""ledgr: a self-hosted ledger node and issuer/verifier daemon for self-sovereign identity."""

__version__ = "0.1.0"
