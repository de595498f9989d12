"""A validator takes no operations while it has no usable state (ledgr.node.operations).

Found by the fault soak (seed 1125, wipe + restart): a node catching up by state sync kept a
forwarded operation that was committed below its snapshot — where it has no operation index — then
rejected it in its own block build and told a client it was rejected although it had committed.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ledgr.errors import Unavailable
from ledgr.node.config import NodeConfig
from ledgr.node.mempool import Mempool
from ledgr.node.metrics import NodeMetrics
from ledgr.node.operations import OperationDesk, encode_batch


def _node(started: bool) -> SimpleNamespace:
    return SimpleNamespace(observer=False, takes_operations=lambda: started, config=NodeConfig(),
                           metrics=NodeMetrics(), mempool=Mempool(10, 1 << 20))


async def test_a_node_still_catching_up_refuses_submissions_with_503() -> None:
    desk = OperationDesk(_node(started=False))  # type: ignore[arg-type]
    with pytest.raises(Unavailable, match="catching up"):
        await desk.submit(b"{}")


def test_a_node_still_catching_up_drops_forwarded_operations_and_counts_them() -> None:
    node = _node(started=False)
    desk = OperationDesk(node)  # type: ignore[arg-type]
    desk.on_forwarded(encode_batch([b"op-1", b"op-2"]))
    assert desk._forwarded == [] and len(node.mempool) == 0
    assert node.metrics.ops_rejected.labels("not_started")._value.get() == 1


async def test_a_started_node_queues_forwarded_operations_for_admission() -> None:
    node = _node(started=True)
    desk = OperationDesk(node)  # type: ignore[arg-type]
    desk.on_forwarded(encode_batch([b"op-1"]))
    assert desk._forwarded == [b"op-1"]
    assert desk._forward_task is not None
    desk._forward_task.cancel()
