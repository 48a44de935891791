"""The IRC sink against a real ngircd: what a second client in the channel sees."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flume_sink_irc import IrcSink, text_budget
from flume_testkit import EventFactory, SinkDriver
from flume_testkit.servers.ircd import IrcListener, Ngircd, ngircd_path

from flume_sdk import ConfigurationError, Event, EventDeliveryException, Status

pytestmark = pytest.mark.timeout(120)

Factory = Callable[..., IrcSink]


def _run(sink: IrcSink, events: list[Event]) -> SinkDriver:
    driver = SinkDriver(sink).start()
    driver.feed(events)
    driver.run_until_empty()
    return driver


def _bodies(*texts: str) -> list[Event]:
    return [Event(text.encode()) for text in texts]


@contextlib.contextmanager
def _private_server(tmp_path: Path, **options: Any) -> Iterator[tuple[Ngircd, IrcListener]]:
    """An ngircd with ``options`` (see :class:`Ngircd`) and a listener in #flume."""
    binary = ngircd_path()
    if binary is None:
        pytest.skip("ngircd is not installed (scripts/install-system-deps.sh)")
    server = Ngircd(tmp_path / "private", binary, **options)
    server.start_and_wait()
    listener = IrcListener(server.port, "#flume", password=options.get("password", ""))
    try:
        yield server, listener.connect()
    finally:
        listener.close()
        server.stop()


def _sink_for(server: Ngircd, **overrides: str) -> IrcSink:
    return IrcSink.from_config("k1", {"hostname": "127.0.0.1", "port": str(server.port),
                                      "nick": "flumesink", "chan": "flume", **overrides})


def test_a_second_client_in_the_channel_receives_each_body(
        make_irc_sink: Factory, listener: IrcListener) -> None:
    driver = _run(make_irc_sink(), _bodies("first", "second line", "Zürich ✓"))
    try:
        assert listener.sync() == ["first", "second line", "Zürich ✓"]
        assert set(listener.senders) == {"flumesink"}
        assert not driver.errors
    finally:
        driver.stop()


def test_chan_with_its_own_prefix_is_used_as_written(
        make_irc_sink: Factory, ngircd: Ngircd) -> None:
    other = IrcListener(ngircd.port, "&local").connect()
    try:
        driver = _run(make_irc_sink(chan="&local"), _bodies("x"))
        assert other.sync() == ["x"]
        driver.stop()
    finally:
        other.close()


def test_edge_case_bodies_become_safe_messages(
        make_irc_sink: Factory, listener: IrcListener) -> None:
    long_text = "é" * 1000 + "tail"
    events = _bodies("", "a\r\nQUIT :injected", "b\nc", long_text)
    events.append(Event(b"\xff\x00ok"))
    driver = _run(make_irc_sink(), events)
    got = listener.sync()
    driver.stop()
    budget = text_budget("flumesink", "flumesink", "#flume")
    pieces = got[4:-1]
    assert got[:4] == ["a", "QUIT :injected", "b", "c"]  # empty body: nothing; CR/LF end lines
    assert "".join(pieces) == long_text and all(len(p.encode()) <= budget for p in pieces)
    assert got[-1] == "\ufffd\ufffdok"  # invalid UTF-8 and NUL replaced
    assert len(pieces) == -(-len(long_text.encode()) // budget)


def test_splitlines_splits_by_the_splitchars_regex(
        make_irc_sink: Factory, listener: IrcListener) -> None:
    driver = _run(make_irc_sink(splitlines="true", splitchars=r"\|+"), _bodies("a|b||c"))
    assert listener.sync() == ["a", "b", "c"]
    driver.stop()


def test_a_batch_of_1000_lines_arrives_on_one_connection(
        make_irc_sink: Factory, listener: IrcListener) -> None:
    events = EventFactory("line").batch(1000)
    driver = _run(make_irc_sink(batchSize="1000"), events)
    assert listener.sync() == [e.body.decode() for e in events]
    assert driver.sink.counter.get("ConnectionCreatedCount") == 1
    assert driver.sink.counter.get("EventDrainSuccessCount") == 1000
    driver.stop()


def test_default_flood_protection_paces_the_sink_instead_of_kicking_it(
        tmp_path: Path) -> None:
    with _private_server(tmp_path, flood_protection=True) as (server, listener):
        sink = _sink_for(server)
        events = EventFactory("paced").batch(20)
        driver = _run(sink, events)
        assert listener.sync() == [e.body.decode() for e in events]
        assert sink.counter.get("ConnectionCreatedCount") == 1
        assert "Excess" not in server.log_tail(200)
        driver.stop()


def test_a_refusal_part_way_through_a_batch_keeps_the_whole_batch(tmp_path: Path) -> None:
    # The listener is the channel's operator (it joined first) and makes the channel moderated
    # after 2 messages; ngircd's throttling holds the sink's next lines long enough that they
    # are refused (404), so the batch fails after 2 of its 5 lines were relayed.
    with _private_server(tmp_path, flood_protection=True) as (server, listener):
        driver = SinkDriver(_sink_for(server, batchSize="5")).start()
        events = EventFactory("part").batch(5)
        driver.feed(events)
        listener.moderate_after(2)
        assert driver.process() is None
        assert "refused a message" in str(driver.errors[-1])
        assert driver.channel.events == events
        relayed = listener.sync()
        assert 2 <= len(relayed) < 5
        listener.set_mode("-m")
        driver.run_until_empty(timeout=30)
        assert listener.sync() == relayed + [e.body.decode() for e in events]  # at least once
        driver.stop()


def test_server_down_keeps_events_and_a_restart_is_survived(
        make_irc_sink: Factory, ngircd: Ngircd, listener: IrcListener) -> None:
    driver = SinkDriver(make_irc_sink()).start()
    driver.feed(_bodies("before"))
    driver.run_until_empty()
    ngircd.stop()
    driver.feed(_bodies("during-1", "during-2"))
    assert driver.process() is None
    assert isinstance(driver.errors[-1], EventDeliveryException)
    assert [e.body for e in driver.channel.events] == [b"during-1", b"during-2"]
    ngircd.start_and_wait()
    listener.close()
    listener.connect()
    driver.run_until_empty()
    assert listener.sync() == ["before", "during-1", "during-2"]
    assert driver.sink.counter.get("ConnectionCreatedCount") == 2
    driver.stop()


def test_a_sink_started_while_the_server_is_down_delivers_once_it_is_up(
        make_irc_sink: Factory, ngircd: Ngircd, listener: IrcListener) -> None:
    ngircd.stop()
    driver = SinkDriver(make_irc_sink()).start()  # starting does not fail
    driver.feed(_bodies("waited"))
    driver.process()
    assert [e.body for e in driver.channel.events] == [b"waited"]
    ngircd.start_and_wait()
    listener.close()
    listener.connect()
    driver.run_until_empty()
    assert listener.sync() == ["waited"]
    driver.stop()


def test_a_taken_nick_is_replaced_by_an_alternative(make_irc_sink: Factory, ngircd: Ngircd,
                                         listener: IrcListener) -> None:
    squatter = IrcListener(ngircd.port, "#elsewhere", nick="flumesink").connect()
    try:
        driver = _run(make_irc_sink(), _bodies("hi"))
        assert listener.sync() == ["hi"]
        assert listener.senders == ["flumesin_"]  # ngircd allows 9 characters
        driver.stop()
    finally:
        squatter.close()


def test_server_password_is_sent_and_a_wrong_one_is_a_clear_error(tmp_path: Path) -> None:
    with _private_server(tmp_path, password="s3cret") as (server, listener):
        good = _run(_sink_for(server, password="s3cret"), _bodies("in"))
        assert listener.sync() == ["in"]
        good.stop()
        bad = SinkDriver(_sink_for(server, password="wrong", connectTimeout="5000")).start()
        bad.feed(_bodies("out"))
        assert bad.process() is None
        assert "IRC server" in str(bad.errors[-1]) and "k1" in str(bad.errors[-1])
        assert [e.body for e in bad.channel.events] == [b"out"]
        bad.stop()


def test_an_idle_sink_answers_the_servers_pings_and_keeps_its_connection(
        tmp_path: Path) -> None:
    with _private_server(tmp_path, ping_timeout=5) as (server, listener):  # ngircd's minimum
        sink = _sink_for(server)
        driver = SinkDriver(sink).start()
        pause = threading.Event()
        for _ in range(120):  # 12 s idle: the server PINGs after 5 s and drops us 5 s later
            assert driver.process() is Status.BACKOFF
            pause.wait(0.1)
        driver.feed(_bodies("still here"))
        driver.run_until_empty()
        assert listener.sync() == ["still here"]
        assert sink.counter.get("ConnectionCreatedCount") == 1
        driver.stop()


def test_an_empty_channel_backs_off_without_connecting_again(make_irc_sink: Factory) -> None:
    driver = SinkDriver(make_irc_sink()).start()
    assert driver.process() is Status.BACKOFF
    assert driver.sink.counter.get("ConnectionCreatedCount") == 1
    driver.stop()


@pytest.mark.parametrize(("props", "key"), [
    ({"nick": "n", "chan": "c"}, "hostname"),
    ({"hostname": "h", "chan": "c"}, "nick"),
    ({"hostname": "h", "nick": "n"}, "chan"),
    ({"hostname": "h", "nick": "n", "chan": "c", "port": "0"}, "port"),
    ({"hostname": "h", "nick": "my nick", "chan": "c"}, "nick"),
    ({"hostname": "h", "nick": "n", "chan": "c", "splitlines": "true", "splitchars": "("},
     "splitchars"),
    ({"hostname": "h", "nick": "n", "chan": "c", "splitlines": "yes"}, "splitlines"),
])
def test_bad_settings_name_the_key(props: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigurationError, match=key):
        IrcSink.from_config("k1", props)
