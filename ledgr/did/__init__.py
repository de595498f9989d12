"""DIDs: syntax, did:key, did:ledgr method rules and resolution (pure; reads state via a reader)."""
