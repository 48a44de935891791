"""Through a real ``flume-ng agent``: an Avro ``appendBatch`` larger than the channel's
transactionCapacity is answered OK and committed whole (in slices)."""

from __future__ import annotations

from pathlib import Path

from flume_rpc_avro import AvroRpcClient
from flume_testkit.servers import free_port, running_agent, source_to_null

BATCH = 1_000


def test_an_append_batch_larger_than_transaction_capacity_is_accepted(tmp_path: Path) -> None:
    port = free_port()
    events = [{"headers": {"n": str(i)}, "body": b"event %d" % i} for i in range(BATCH)]
    with running_agent(source_to_null("a1", "avro", port), tmp_path) as agent, \
            AvroRpcClient("127.0.0.1", port, connect_timeout=10, request_timeout=30) as client:
        client.append_batch(events)  # raises unless the source answered OK
        agent.assert_accepted(BATCH, batches=1)
