"""Real servers for acceptance tests: started by the test, probed, stopped by pid."""

from flume_testkit.servers._process import ServerProcess, ServerStartError, free_port, wait_until
from flume_testkit.servers.agent import (
    FlumeAgentProcess,
    counted_config,
    running_agent,
    source_to_null,
    trickle_config,
)

__all__ = [
           "FlumeAgentProcess",
           "ServerProcess",
           "ServerStartError",
           "counted_config",
           "free_port",
           "running_agent",
           "source_to_null",
           "trickle_config",
           "wait_until",
]
