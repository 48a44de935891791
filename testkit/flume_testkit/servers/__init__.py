"""Real servers for acceptance tests: started by the test, probed, stopped by pid."""

from flume_testkit.servers._process import ServerProcess, ServerStartError, free_port, wait_until
from flume_testkit.servers.agent import FlumeAgentProcess

__all__ = ["FlumeAgentProcess", "ServerProcess", "ServerStartError", "free_port", "wait_until"]
