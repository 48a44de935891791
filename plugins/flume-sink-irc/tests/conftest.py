"""Factories for the IRC sink against the testkit's private ngircd, and a listening client."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flume_sink_irc import IrcSink
from flume_testkit.servers.ircd import IrcListener, Ngircd

CHAN = "#flume"


@pytest.fixture
def make_irc_sink(ngircd: Ngircd) -> Callable[..., IrcSink]:
    def make(name: str = "k1", **overrides: str) -> IrcSink:
        props = {"hostname": "127.0.0.1", "port": str(ngircd.port), "nick": "flumesink",
                 "chan": "flume", "connectTimeout": "5000", "requestTimeout": "20000",
                 **overrides}
        return IrcSink.from_config(name, props)
    return make


@pytest.fixture
def listener(ngircd: Ngircd) -> Iterator[IrcListener]:
    """A second client joined to #flume before the sink writes."""
    client = IrcListener(ngircd.port, CHAN).connect()
    yield client
    client.close()
