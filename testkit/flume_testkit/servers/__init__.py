"""Real servers for acceptance tests: started by the test, probed, stopped by pid."""

from flume_testkit.servers._process import ServerProcess, ServerStartError, free_port, wait_until

__all__ = ["ServerProcess", "ServerStartError", "free_port", "wait_until"]
