"""flume-sdk kernel: events, transactions, lifecycle, plugin discovery and the agent runtime."""
