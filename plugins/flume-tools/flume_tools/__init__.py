"""flume-tools: terminal tools for running flume-sdk (and Flume) agents.

``flume-ng top URL [URL...]`` (:mod:`flume_tools.top`) shows per component the
rates, channel fill, errors, connections and health of one or several agents,
refreshed in place.
"""

from flume_tools.sampling import AgentSample, ComponentRow, rows_between, sample

__all__ = ["AgentSample", "ComponentRow", "rows_between", "sample"]
