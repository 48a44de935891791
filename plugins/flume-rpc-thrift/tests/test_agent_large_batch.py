"""Through a real ``flume-ng agent``: a Thrift ``appendBatch`` larger than the channel's
transactionCapacity is answered OK and committed whole (in slices)."""

from __future__ import annotations

from pathlib import Path

from flume_rpc_thrift import ThriftRpcClient
from flume_testkit.servers import free_port, running_agent, source_to_null

from flume_sdk import Event

BATCH = 1_000


def test_an_append_batch_larger_than_transaction_capacity_is_accepted(tmp_path: Path) -> None:
    port = free_port()
    events = [Event(b"event %d" % i, {"n": str(i)}) for i in range(BATCH)]
    with running_agent(source_to_null("a1", "thrift", port), tmp_path) as agent, \
            ThriftRpcClient("127.0.0.1", port, connect_timeout=10, request_timeout=30) as client:
        client.append_batch(events)  # raises unless the source answered OK
        agent.assert_accepted(BATCH, batches=1)
