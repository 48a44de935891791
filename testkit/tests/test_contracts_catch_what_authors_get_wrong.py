"""The contracts fail the mistakes plugin authors really make, naming the promise each breaks.

Each broken component below is the smallest version of a real bug: a connection
bound to the thread that started the sink, a refused commit that keeps half its
batch, a size that forgets in-flight takes, a "durable" channel that only saves on
a graceful stop, a sink that swallows a failure part-way through a batch, a source
that gives up after twenty retries. Every module runs through ``plugin_run``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flume_testkit import EventFactory

from flume_sdk import Event

if TYPE_CHECKING:
    from conftest import PluginRun

__all__: list[str] = []

pytest_plugins = ["pytester"]

# -- threads: lifecycle on one thread, work on the runner threads -------------------------------

SQLITE_SINK = """
import sqlite3

class SqliteSink(BatchSink):
    '''Opens its connection in do_start, as a first draft of a plugin does.'''
    Settings = RecordingSinkSettings
    path = ""
    def do_start(self):
        self.db = sqlite3.connect(self.path, CHECK)
        self.db.execute("create table if not exists events (body blob)")
    def do_stop(self):
        self.db.close()
    def deliver(self, events):
        self.db.executemany("insert into events values (?)", [(e.body,) for e in events])
        self.db.commit()

def rows(path):
    with sqlite3.connect(path) as db:
        try:
            return [Event(r[0]) for r in db.execute("select body from events order by rowid")]
        except sqlite3.OperationalError:
            return []

class TestSqliteSink(SinkContract):
    skip_contract = {"test_delivers_every_edge_case_event_intact": "bodies only",
                     "test_failed_write_rolls_back_and_keeps_the_events": "cannot break",
                     "test_failed_write_is_reported": "cannot break",
                     "test_delivers_everything_after_the_destination_heals": "cannot break",
                     "test_outright_refusal_delivers_nothing_twice": "cannot break"}
    @pytest.fixture
    def make_sink(self, tmp_path):
        def make(**o):
            sink = SqliteSink.from_config("k1", o)
            sink.path = str(tmp_path / "events.db")
            return sink
        return make
    @pytest.fixture
    def delivered(self, tmp_path):
        return lambda sink: [e.body for e in rows(str(tmp_path / "events.db"))]
"""


def test_a_sink_holding_a_thread_bound_connection_fails_naming_the_thread_rule(
    plugin_run: PluginRun,
) -> None:
    result = plugin_run(SQLITE_SINK.replace("CHECK", "check_same_thread=True"),
                        "-k", "runner_thread")
    plugin_run.failed_with(result, "a sink's process() must work on its runner thread*")
    result.stdout.fnmatch_lines(["*SQLite objects created in a thread*thread rule: the agent "
                                 "calls start() and stop() on its main thread and process() on "
                                 "the component's runner thread*"])


def test_a_sink_whose_connection_any_thread_may_use_passes(plugin_run: PluginRun) -> None:
    plugin_run.passed(plugin_run(SQLITE_SINK.replace("CHECK", "check_same_thread=False")))


THREAD_BOUND_SOURCE = """
class ThreadBoundSource(ScriptedSource):
    '''Remembers the thread that started it and only works there (a thread-local session).'''
    def do_start(self):
        import threading
        self.owner = threading.get_ident()
    def process(self):
        import threading
        if threading.get_ident() != self.owner:
            raise RuntimeError("session used from a thread that did not create it")
        return super().process()

def drive(driver, count):
    before = len(driver.source.acknowledged)
    driver.source.feed(EventFactory().batch(count))
    driver.process(times=count)
    return len(driver.source.acknowledged) - before

class TestThreadBound(SourceContract):
    @pytest.fixture
    def make_source(self):
        return lambda **o: ThreadBoundSource.from_config("r1", o)
    @pytest.fixture
    def drive_source(self):
        return drive
"""


def test_a_source_that_only_works_on_its_starting_thread_fails_naming_the_thread_rule(
    plugin_run: PluginRun,
) -> None:
    result = plugin_run(THREAD_BOUND_SOURCE, "-k", "runner_thread")
    plugin_run.failed_with(result, "a source's process() must work on its runner thread*")
    result.stdout.fnmatch_lines(["*thread rule:*"])


THREAD_BOUND_CHANNEL = """
import threading

class ThreadBoundChannel(RecordingChannel):
    '''Its storage handle belongs to the thread that called start().'''
    def do_start(self):
        self.owner = threading.get_ident()
    def _take(self, max_events):
        if threading.get_ident() != self.owner:
            raise ChannelException("storage handle used from another thread")
        return super()._take(max_events)

class TestThreadBound(ChannelContract):
    @pytest.fixture
    def make_channel(self):
        return lambda **o: ThreadBoundChannel.from_config("c1", o)
"""


def test_a_channel_that_only_takes_on_its_starting_thread_fails_naming_the_thread_rule(
    plugin_run: PluginRun,
) -> None:
    result = plugin_run(THREAD_BOUND_CHANNEL, "-k", "fifo")
    plugin_run.failed_with(result, "a channel must hand events out in the order they were "
                           "committed (FIFO) (ChannelException: storage handle used from another "
                           "thread [[]thread rule:*")


# -- channels -----------------------------------------------------------------------------------

CHANNEL = """
import pickle

class Broken(RecordingChannel):
    BODY

class TestBroken(ChannelContract):
    durable = DURABLE
    @pytest.fixture
    def make_channel(self, tmp_path):
        def make(**o):
            channel = Broken.from_config("c1", o)
            channel.path = tmp_path / "store"
            return channel
        return make
"""


def _channel(body: str, durable: bool = False) -> str:
    indented = "\n    ".join(body.strip("\n").splitlines())
    return CHANNEL.replace("BODY", indented).replace("DURABLE", str(durable))


PARTIAL_REFUSAL = '''
def _commit(self, puts, takes):
    with self._lock:
        room = self.capacity - len(self._queue) - self._in_flight + len(takes)
        accepted = puts[:max(room, 0)]
        self._queue.extend(accepted)
        self.committed.extend(accepted)
        self._in_flight -= len(takes)
        self.taken.extend(takes)
        if len(accepted) < len(puts):
            raise ChannelFullException("no room for the rest")
'''


def test_a_refused_commit_that_keeps_part_of_its_batch_fails(plugin_run: PluginRun) -> None:
    result = plugin_run(_channel(PARTIAL_REFUSAL), "-k", "leaves_nothing")
    plugin_run.failed_with(result, "a commit refused for capacity must leave nothing of its "
                           "batch behind*")


GREEDY_TAKE = '''
def _take(self, max_events):
    return super()._take(max_events + 2)
'''


def test_a_take_batch_returning_more_than_asked_fails(plugin_run: PluginRun) -> None:
    result = plugin_run(_channel(GREEDY_TAKE), "-k", "at_most_what_was_asked")
    plugin_run.failed_with(result, "take_batch(n) must return at most n events*")


SIZE_WITH_IN_FLIGHT = '''
@property
def size(self):
    return len(self._queue) + len(self.puts) - len(self.committed)
'''


def test_a_size_that_counts_uncommitted_puts_fails(plugin_run: PluginRun) -> None:
    result = plugin_run(_channel(SIZE_WITH_IN_FLIGHT), "-k", "size_counts")
    plugin_run.failed_with(result, "size must equal the committed events not yet taken*")


ZERO_SIZE = '''
@property
def size(self):
    return 0
'''


def test_a_channel_reporting_size_zero_fails(plugin_run: PluginRun) -> None:
    result = plugin_run(_channel(ZERO_SIZE), "-k", "size_counts")
    plugin_run.failed_with(result, "size must equal the committed events not yet taken*"
                           "after 5 committed puts: size 0, expected 5*")


DEAD_AFTER_RESTART = '''
closed = False
def do_stop(self):
    self.closed = True
def _take(self, max_events):
    return [] if self.closed else super()._take(max_events)
'''


def test_a_channel_that_does_not_work_after_a_restart_fails(plugin_run: PluginRun) -> None:
    result = plugin_run(_channel(DEAD_AFTER_RESTART), "-k", "works_after_stop_and_start")
    plugin_run.failed_with(result, "a channel stopped and started again must work*")


LOWER_CASE_KEYS = '''
def _take(self, max_events):
    return [Event(e.body, {k.lower(): v for k, v in e.headers.items()})
            for e in super()._take(max_events)]
'''


def test_a_channel_that_lower_cases_header_names_fails(plugin_run: PluginRun) -> None:
    result = plugin_run(_channel(LOWER_CASE_KEYS), "-k", "edge_case")
    plugin_run.failed_with(result, "a channel must return every event with its headers and body "
                           "intact (mixed-case header names*")


STRIPPING = '''
def _take(self, max_events):
    return [Event(e.body.strip(), e.headers) for e in super()._take(max_events)]
'''


def test_a_channel_that_strips_bodies_fails(plugin_run: PluginRun) -> None:
    result = plugin_run(_channel(STRIPPING), "-k", "edge_case")
    plugin_run.failed_with(result, "a channel must return every event with its headers and body "
                           "intact (body ending in a newline*")


# A "durable" channel stored as a pickle: the variants save too late or forget takes.
DURABLE_STORE = '''
def do_start(self):
    if self.path.exists():
        self._queue.extend(pickle.loads(self.path.read_bytes()))
def _save(self):
    self.path.write_bytes(pickle.dumps(list(self._queue)))
def do_stop(self):
    SAVE_ON_STOP
def _commit(self, puts, takes):
    super()._commit(puts, takes)
    SAVE_ON_COMMIT
'''


def _durable(on_stop: str, on_commit: str) -> str:
    body = DURABLE_STORE.replace("SAVE_ON_STOP", on_stop).replace("SAVE_ON_COMMIT", on_commit)
    return _channel(body, durable=True)


def test_a_durable_channel_that_saves_only_on_a_graceful_stop_fails(
    plugin_run: PluginRun,
) -> None:
    result = plugin_run(_durable("self._save()", "pass"), "-k", "durable")
    plugin_run.failed_with(result, "a durable channel's commit must be durable when it returns*"
                           "reopened gave []*")


def test_a_durable_channel_that_forgets_committed_takes_fails(plugin_run: PluginRun) -> None:
    forgets = "if puts: self.path.write_bytes(pickle.dumps(self.committed))"
    result = plugin_run(_durable("pass", forgets), "-k", "takes_stay_taken")
    plugin_run.failed_with(result, "a durable channel must keep committed takes taken across a "
                           "restart*")


def test_a_durable_channel_that_saves_at_every_commit_passes(plugin_run: PluginRun) -> None:
    plugin_run.passed(plugin_run(_durable("pass", "self._save()"), "-k", "durable or restart"))


def test_a_crash_inside_a_contract_test_names_the_promise(plugin_run: PluginRun) -> None:
    crash = "def _take(self, max_events):\n    raise KeyError('slot')"
    result = plugin_run(_channel(crash), "-k", "fifo")
    plugin_run.failed_with(result, "a channel must hand events out in the order they were "
                           "committed (FIFO) (KeyError: 'slot')")


CUSTOM_KEYS = """
import attrs

@attrs.frozen(kw_only=True)
class Limits:
    capacity: int = setting(default=100, key="maxEvents")
    transaction_capacity: int = setting(default=10, key="maxPerTransaction")
    flavour: str = setting(required=True)

class Custom(RecordingChannel):
    Settings = Limits

class TestCustom(ChannelContract):
    capacity_key = "maxEvents"
    transaction_capacity_key = "maxPerTransaction"
    extra_settings = {"flavour": "plain"}
    @pytest.fixture
    def make_channel(self):
        return lambda **o: Custom.from_config("c1", o)
"""


def test_channel_contract_takes_the_authors_key_names_and_extra_settings(
    plugin_run: PluginRun,
) -> None:
    result = plugin_run(CUSTOM_KEYS)
    plugin_run.passed(result)
    assert result.parseoutcomes().get("passed", 0) >= 20, result.stdout.str()


# -- sinks --------------------------------------------------------------------------------------

SINK = """
class Broken(RecordingSink):
    BODY

class TestBroken(SinkContract):
    @pytest.fixture
    def make_sink(self):
        return lambda **o: Broken.from_config("k1", o)
    @pytest.fixture
    def delivered(self):
        return lambda sink: list(sink.delivered)
    @pytest.fixture
    def break_destination(self):
        return lambda sink: sink.break_destination()
    @pytest.fixture
    def heal_destination(self):
        return lambda sink: sink.heal_destination()
    @pytest.fixture
    def break_destination_after(self):
        return lambda sink, n: sink.break_destination_after(n)
"""


def _sink(body: str) -> str:
    return SINK.replace("BODY", "\n    ".join(body.strip("\n").splitlines()))


SWALLOWS_PARTIAL_FAILURE = '''
def deliver(self, events):
    try:
        super().deliver(events)
    except EventDeliveryException:
        if not self.fail_after is not None and self.delivered:
            raise
        self.fail_after = None
'''


def test_a_sink_that_commits_after_failing_part_way_fails(plugin_run: PluginRun) -> None:
    result = plugin_run(_sink(SWALLOWS_PARTIAL_FAILURE), "-k", "part_way")
    plugin_run.failed_with(result, "a destination failing part-way through a batch must leave "
                           "every undelivered event in the channel*")


RESENDS = '''
pending = ()
def deliver(self, events):
    if self.broken:
        self.pending = list(events)
    super().deliver([*self.pending, *events] if not self.broken else events)
    self.pending = ()
'''


def test_a_sink_that_resends_a_refused_batch_on_its_own_fails(plugin_run: PluginRun) -> None:
    result = plugin_run(_sink(RESENDS), "-k", "nothing_twice")
    plugin_run.failed_with(result, "after an outright refusal a sink must deliver nothing twice*")


WRONG_COUNTERS = '''
def on_commit(self, events):
    self.counter.incr("EventDrainSuccessCount", len(events))
'''


def test_a_sink_that_counts_a_delivery_twice_fails(plugin_run: PluginRun) -> None:
    result = plugin_run(_sink(WRONG_COUNTERS), "-k", "counters")
    plugin_run.failed_with(result, "EventDrainSuccessCount must equal the events delivered and "
                           "committed*")


DEAD_AFTER_RESTART_SINK = '''
def do_stop(self):
    self.broken = True
'''


def test_a_sink_that_does_not_work_after_a_restart_fails(plugin_run: PluginRun) -> None:
    result = plugin_run(_sink(DEAD_AFTER_RESTART_SINK), "-k", "works_after_stop_and_start")
    plugin_run.failed_with(result, "a sink stopped and started again must work*")


STRIPPING_SINK = '''
def deliver(self, events):
    super().deliver([Event(e.body.strip(), e.headers) for e in events])
'''


def test_a_sink_that_strips_line_endings_fails(plugin_run: PluginRun) -> None:
    result = plugin_run(_sink(STRIPPING_SINK), "-k", "edge_case")
    plugin_run.failed_with(result, "a sink must deliver every event it commits, headers and body "
                           "intact*")


def test_the_recording_sink_passes_with_break_destination_after(plugin_run: PluginRun) -> None:
    plugin_run.passed(plugin_run(_sink("pass")))


# -- sources ------------------------------------------------------------------------------------

SOURCE = """
class Broken(ScriptedSource):
    BODY

FACTORY = EventFactory("driven")

def drive(driver, count):
    before = len(driver.source.acknowledged)
    driver.source.feed(FACTORY.batch(count))
    driver.process(times=count)
    return len(driver.source.acknowledged) - before

class TestBroken(SourceContract):
    @pytest.fixture
    def make_source(self):
        return lambda **o: Broken.from_config("r1", o)
    @pytest.fixture
    def drive_source(self):
        return drive
"""


def _source(body: str) -> str:
    return SOURCE.replace("BODY", "\n    ".join(body.strip("\n").splitlines()))


GIVES_UP = '''
refusals = 0
def process(self):
    status = super().process()
    if status is Status.BACKOFF and self._pending:
        self.refusals += 1
        if self.refusals > 20:
            with self._lock:
                self.acknowledged.extend(self._pending.popleft())
            self.refusals = 0
    return status
'''


def test_a_source_that_gives_up_after_twenty_refusals_fails(plugin_run: PluginRun) -> None:
    result = plugin_run(_source(GIVES_UP), "-k", "long_refusal")
    plugin_run.failed_with(result, "a source must keep what it holds through a long refusal*")


COUNTS_EARLY = '''
def process(self):
    with self._lock:
        waiting = len(self._pending[0]) if self._pending else 0
    self.counter.incr("EventAcceptedCount", waiting)
    status = super().process()
    if status is Status.READY:
        self.counter.incr("EventAcceptedCount", -waiting)
    return status
'''


def test_a_source_counting_accepted_events_before_the_commit_fails(
    plugin_run: PluginRun,
) -> None:
    result = plugin_run(_source(COUNTS_EARLY), "-k", "long_refusal")
    plugin_run.failed_with(result, "EventAcceptedCount must never exceed what the channel "
                           "committed*")


DEAD_AFTER_RESTART_SOURCE = '''
def do_stop(self):
    self._pending = None
def process(self):
    if self._pending is None:
        return Status.BACKOFF
    return super().process()
def feed(self, events):
    if self._pending is not None:
        super().feed(events)
'''


def test_a_source_that_does_not_work_after_a_restart_fails(plugin_run: PluginRun) -> None:
    result = plugin_run(_source(DEAD_AFTER_RESTART_SOURCE), "-k", "works_after_stop_and_start")
    plugin_run.failed_with(result, "a source stopped and started again must work*")


# -- interceptors and serializers ---------------------------------------------------------------

BIG_BATCH_INTERCEPTOR = """
class Sampler(Interceptor):
    '''Drops empty bodies; its batch path also drops every 64th event of a big batch.'''
    def intercept(self, event):
        return event if event.body else None
    def intercept_batch(self, events):
        kept = [e for e in map(self.intercept, events) if e is not None]
        return [e for i, e in enumerate(kept) if len(kept) < 64 or i % 64]

class TestSampler(InterceptorContract):
    @pytest.fixture
    def make_interceptor(self):
        return lambda **o: Sampler.from_config("i1", o)
"""


def test_an_interceptor_whose_batch_path_differs_only_in_big_batches_fails(
    plugin_run: PluginRun,
) -> None:
    result = plugin_run(BIG_BATCH_INTERCEPTOR, "-k", "real_batch_sizes")
    plugin_run.failed_with(result, "intercept_batch must equal the filtered map of intercept at "
                           "real batch sizes*batch of 100*")


SERIALIZER = """
import struct

def read(data):
    if data[:4] != b"LPF1":
        raise ValueError("not an LPF1 stream")
    out, offset = [], 4
    while offset < len(data):
        (size,) = struct.unpack_from(">I", data, offset)
        out.append(Event(data[offset + 4:offset + 4 + size]))
        offset += 4 + size
    return out

class Framed(EventSerializer):
    supports_reopen = False
    BODY

class TestFramed(SerializerContract):
    round_trip_headers = False
    @pytest.fixture
    def make_serializer(self):
        return lambda out, **o: Framed.create(out, o)
    @pytest.fixture
    def read_events(self):
        return read
"""


def _serializer(body: str) -> str:
    return SERIALIZER.replace("BODY", "\n    ".join(body.strip("\n").splitlines()))


HEADER_ON_FIRST_WRITE = '''
started = False
def write(self, event):
    if not self.started:
        self.out.write(b"LPF1")
        self.started = True
    self.out.write(struct.pack(">I", len(event.body)) + event.body)
'''


def test_a_serializer_whose_empty_file_is_invalid_fails(plugin_run: PluginRun) -> None:
    result = plugin_run(_serializer(HEADER_ON_FIRST_WRITE), "-k", "empty_file")
    plugin_run.failed_with(result, "a file opened and closed with no events in it must be valid*")


BUFFERS_PAST_FLUSH = '''
def after_create(self):
    self.out.write(b"LPF1")
    self.held = []
def write(self, event):
    self.held.append(event)
    if len(self.held) == 4:
        self.flush_held()
def flush_held(self):
    for event in self.held:
        self.out.write(struct.pack(">I", len(event.body)) + event.body)
    self.held = []
def before_close(self):
    self.flush_held()
'''


def test_a_serializer_that_keeps_events_past_flush_fails(plugin_run: PluginRun) -> None:
    result = plugin_run(_serializer(BUFFERS_PAST_FLUSH), "-k", "flush_makes")
    plugin_run.failed_with(result, "after flush(), every event written so far must read back*")


THREAD_BOUND = '''
def after_create(self):
    import threading
    self.owner = threading.get_ident()
    self.out.write(b"LPF1")
def write(self, event):
    self.out.write(struct.pack(">I", len(event.body)) + event.body)
def before_close(self):
    import threading
    if threading.get_ident() != self.owner:
        raise RuntimeError("this writer was opened in another thread")
'''


def test_a_serializer_that_only_closes_on_the_thread_that_opened_it_fails(
    plugin_run: PluginRun,
) -> None:
    result = plugin_run(_serializer(THREAD_BOUND), "-k", "full_hook_sequence")
    plugin_run.failed_with(result, "a serializer written on the sink's runner thread must close "
                           "on the agent's main thread*")
    result.stdout.fnmatch_lines(["*opened in another thread*thread rule: the agent calls*"])


def test_a_framed_serializer_that_writes_its_header_at_create_passes(
    plugin_run: PluginRun,
) -> None:
    good = HEADER_ON_FIRST_WRITE.replace("started = False", "started = True").replace(
        "def write(self, event):", "def after_create(self):\n    self.out.write(b'LPF1')\n"
        "def write(self, event):")
    plugin_run.passed(plugin_run(_serializer(good)))


# -- events -------------------------------------------------------------------------------------


def test_edge_cases_are_a_list_of_events_with_the_hard_cases() -> None:
    cases = EventFactory("x").edge_cases()
    assert isinstance(cases, list) and all(isinstance(e, Event) for e in cases)
    bodies = {e.body for e in cases}
    assert {b"line\n", b"\r\n", b"  padded  "} <= bodies
    assert any(b"\x00" in body for body in bodies)
    names = {k for e in cases for k in e.headers}
    assert {"traceId", "Content-Type", "app.name", "x-request-id", "k=v", "größe"} <= names


DRIVEN_SOURCE = """
FACTORY = EventFactory("driven")

class Doubling(ScriptedSource):
    '''Commits the first event of every batch twice (a retry that forgot what it sent).'''
    def feed(self, events):
        super().feed([events[0], *events] if events else events)

def drive(driver, count):
    before = len(driver.source.acknowledged)
    events = FACTORY.batch(count)
    driver.source.feed(events)
    driver.process(times=count + 1)
    acked = min(count, len(driver.source.acknowledged) - before)
    return Driven(acked, sent=[e.body for e in events])

class TestDoubling(SourceContract):
    @pytest.fixture
    def make_source(self):
        return lambda **o: Doubling.from_config("r1", o)
    @pytest.fixture
    def drive_source(self):
        return drive
"""


def test_a_source_duplicating_what_it_was_sent_fails_when_drive_source_says_what_it_sent(
    plugin_run: PluginRun,
) -> None:
    result = plugin_run(DRIVEN_SOURCE, "-k", "go_through_the_channel_processor")
    plugin_run.failed_with(result, "every payload the client sent must be committed exactly "
                           "once*more than once [[]b'driven-0'[]]*")


THREAD_BOUND_INTERCEPTOR = """
import threading

class Tagger(Interceptor):
    '''Opens its lookup table in initialize() and only reads it from that thread.'''
    def initialize(self):
        self.owner = threading.get_ident()
    def intercept(self, event):
        if threading.get_ident() != self.owner:
            raise RuntimeError("lookup table used from a thread that did not open it")
        event.headers["tag"] = "t"
        return event

class TestTagger(InterceptorContract):
    @pytest.fixture
    def make_interceptor(self):
        return lambda **o: Tagger.from_config("i1", o)
"""


def test_an_interceptor_that_only_works_on_its_initializing_thread_fails(
    plugin_run: PluginRun,
) -> None:
    result = plugin_run(THREAD_BOUND_INTERCEPTOR, "-k", "filtered_map")
    plugin_run.failed_with(result, "intercept_batch(events) must equal*RuntimeError: lookup "
                           "table used from a thread*thread rule:*")
