"""Building the consensus core for this node from its config, key and store."""

from __future__ import annotations

from typing import Any

from ledgr.consensus.config import CoreConfig, TimeoutConfig
from ledgr.consensus.core import Core
from ledgr.consensus.signing import Ed25519Signer, Ed25519Verifier
from ledgr.crypto import PrivateKey
from ledgr.node.chain import Chain
from ledgr.node.config import NodeConfig


def core_config(chain_id: str, config: NodeConfig) -> CoreConfig:
    c = config.consensus
    return CoreConfig(
        chain_id=chain_id,
        timeouts=TimeoutConfig(
            propose_ms=c.timeout_propose_ms, propose_delta_ms=c.timeout_propose_delta_ms,
            prevote_ms=c.timeout_prevote_ms, prevote_delta_ms=c.timeout_prevote_delta_ms,
            precommit_ms=c.timeout_precommit_ms, precommit_delta_ms=c.timeout_precommit_delta_ms),
        clock_skew_ms=c.max_clock_skew_ms,
        max_block_bytes=config.mempool.block_max_bytes + 4096,
    )


def make_core(chain: Chain, key: PrivateKey, config: NodeConfig) -> Any:
    """A core that resumes from the persisted consensus state, if any."""
    return Core(core_config(chain.chain_id, config), Ed25519Signer(key), Ed25519Verifier(),
                chain.store.get_consensus_state())
