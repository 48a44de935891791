"""flume-testkit: fakes, a fake clock, drivers, contract suites and real-server fixtures."""

__all__: list[str] = []
