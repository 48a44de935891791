"""Each contract fails a deliberately broken component, naming the broken promise.

Every case writes a small plugin test module and runs it through pytester
(``plugin_run``, see conftest.py), then checks the verdict and the message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import PluginRun

__all__: list[str] = []

pytest_plugins = ["pytester"]

LOSING_CHANNEL = """
class LosingChannel(RecordingChannel):
    '''Forgets the events of a rolled-back take.'''
    def _rollback(self, takes):
        with self._lock:
            self._in_flight -= len(takes)
            self.rollbacks += 1

class TestLosingChannel(ChannelContract):
    @pytest.fixture
    def make_channel(self):
        return lambda **o: LosingChannel.from_config("c1", o)
"""


def test_channel_contract_fails_a_channel_that_loses_rolled_back_takes(
    plugin_run: PluginRun,
) -> None:
    result = plugin_run(LOSING_CHANNEL, "-k", "rolled_back_take")
    plugin_run.failed_with(
        result, "a rolled-back take must return the events to the channel in order")


def test_channel_contract_passes_the_recording_channel(plugin_run: PluginRun) -> None:
    body = LOSING_CHANNEL.replace("LosingChannel.from_config", "RecordingChannel.from_config")
    result = plugin_run(body)
    assert result.parseoutcomes().get("failed", 0) == 0, result.stdout.str()


EAGER_SINK = """
class EagerSink(Sink):
    '''Commits the take, then writes: a failed write loses the batch.'''
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.written, self.broken = [], False
    def process(self):
        with self.channel.transaction() as tx:
            events = tx.take_batch(100)
        if not events:
            return Status.BACKOFF
        if self.broken:
            raise EventDeliveryException("destination down")
        self.written.extend(events)
        return Status.READY

class TestEagerSink(SinkContract):
    @pytest.fixture
    def make_sink(self):
        return lambda **o: EagerSink("k1")
    @pytest.fixture
    def delivered(self):
        return lambda sink: sink.written
    @pytest.fixture
    def break_destination(self):
        return lambda sink: setattr(sink, "broken", True)
    @pytest.fixture
    def heal_destination(self):
        return lambda sink: setattr(sink, "broken", False)
"""


def test_sink_contract_fails_a_sink_that_commits_before_writing(
    plugin_run: PluginRun,
) -> None:
    result = plugin_run(EAGER_SINK, "-k", "commits_only_after_the_write")
    plugin_run.failed_with(
        result, "a sink must commit its take only after the destination acknowledged "
                 "the write")


def test_sink_contract_fails_a_sink_that_loses_a_failed_batch(plugin_run: PluginRun) -> None:
    result = plugin_run(EAGER_SINK, "-k", "failed_write_rolls_back")
    plugin_run.failed_with(
        result, "a failed write must roll back and keep every event in the channel")


def _scripted_contract(cls: str) -> str:
    """A SourceContract for ``cls`` (a ScriptedSource): acknowledged = its acknowledged list."""
    return f"""
def drive(driver, count):
    before = len(driver.source.acknowledged)
    driver.source.feed(EventFactory().batch(count))
    driver.process(times=count)
    return len(driver.source.acknowledged) - before

class Test{cls}(SourceContract):
    @pytest.fixture
    def make_source(self):
        return lambda **o: {cls}.from_config("r1", o)
    @pytest.fixture
    def drive_source(self):
        return drive
"""


EAGER_SOURCE = """
class EagerSource(ScriptedSource):
    '''Acknowledges a batch before handing it to the channel processor.'''
    def process(self):
        with self._lock:
            batch = self._pending.popleft() if self._pending else None
        if batch is None:
            return Status.BACKOFF
        self.acknowledged.extend(batch)
        try:
            self.channel_processor.process_batch(batch)
        except ChannelException:
            return Status.BACKOFF
        return Status.READY
""" + _scripted_contract("EagerSource")


def test_source_contract_fails_a_source_that_acknowledges_before_commit(
    plugin_run: PluginRun,
) -> None:
    result = plugin_run(EAGER_SOURCE, "-k", "while_the_channel_is_full")
    plugin_run.failed_with(
        result, "a source must never acknowledge events before the channel committed")


def test_source_contract_passes_the_scripted_source(plugin_run: PluginRun) -> None:
    result = plugin_run(EAGER_SOURCE.replace("EagerSource.from_config",
                                                 "ScriptedSource.from_config"))
    assert result.parseoutcomes().get("failed", 0) == 0, result.stdout.str()


OVERCOUNTING_SOURCE = """
class OvercountingSource(ScriptedSource):
    '''Keeps its own bookkeeping instead of Source.deliver: counts a batch accepted too early.'''
    def process(self):
        with self._lock:
            batch = self._pending[0] if self._pending else None
        if batch is None:
            return Status.BACKOFF
        self.counter.incr("EventAcceptedCount", len(batch))
        try:
            self.channel_processor.process_batch(batch)
        except ChannelException:
            return Status.BACKOFF
        with self._lock:
            self._pending.popleft()
            self.acknowledged.extend(batch)
        return Status.READY
""" + _scripted_contract("OvercountingSource")


def test_source_contract_fails_a_source_that_counts_accepted_before_commit(
    plugin_run: PluginRun,
) -> None:
    result = plugin_run(OVERCOUNTING_SOURCE, "-k", "while_the_channel_is_full")
    plugin_run.failed_with(result, "a source must count in EventAcceptedCount exactly the events "
                           "the channel committed")


SPLIT_INTERCEPTOR = """
class Upper(Interceptor):
    '''Upper-cases bodies one by one, but its batch path forgets to.'''
    def intercept(self, event):
        event.body = event.body.upper()
        return event
    def intercept_batch(self, events):
        return list(events)

class TestSplitInterceptor(InterceptorContract):
    @pytest.fixture
    def make_interceptor(self):
        return lambda **o: Upper.from_config("i1", o)
"""


def test_interceptor_contract_fails_an_interceptor_whose_batch_path_differs(
    plugin_run: PluginRun,
) -> None:
    result = plugin_run(SPLIT_INTERCEPTOR, "-k", "filtered_map")
    plugin_run.failed_with(
        result, "intercept_batch(events) must equal [[]intercept(e) for e in events[]]")


TRUNCATING_SERIALIZER = """
class Truncating(EventSerializer):
    '''Writes bodies, then rewrites the stream from the start in before_close.'''
    def write(self, event):
        self.out.write(event.body + b"\\n")
    def before_close(self):
        self.out.seek(0)
        self.out.write(b"TRAILER")

class TestTruncating(SerializerContract):
    @pytest.fixture
    def make_serializer(self):
        return lambda out, **o: Truncating.create(out, o)
"""


def test_serializer_contract_fails_a_serializer_that_rewrites_on_close(
    plugin_run: PluginRun,
) -> None:
    result = plugin_run(TRUNCATING_SERIALIZER, "-k", "only_appends")
    plugin_run.failed_with(
        result, "flush() must push every written event to the stream and "
                 "before_close() may only append")


THREAD_LEAKING_CHANNEL = """
import threading

class LeakyChannel(RecordingChannel):
    '''Starts a thread and never ends it.'''
    def do_start(self):
        self._never = threading.Event()
        threading.Thread(target=self._never.wait, args=(8,), daemon=True,
                         name="leaky-worker").start()

class TestLeaky(ChannelContract):
    @pytest.fixture
    def make_channel(self):
        return lambda **o: LeakyChannel.from_config("c1", o)
"""


def test_lifecycle_checks_fail_a_component_that_leaves_a_thread_behind(
    plugin_run: PluginRun,
) -> None:
    result = plugin_run(THREAD_LEAKING_CHANNEL, "-k", "no_threads_behind")
    plugin_run.failed_with(
        result, "stop() must end every thread the component started")
    result.stdout.fnmatch_lines(["*leaky-worker*"])


SKIPPING = """
class TestSkips(ChannelContract):
    skip_contract = {"test_takes_are_fifo": REASON}
    @pytest.fixture
    def make_channel(self):
        return lambda **o: RecordingChannel.from_config("c1", o)
"""


def test_skip_contract_with_a_reason_skips_and_shows_the_reason(plugin_run: PluginRun) -> None:
    result = plugin_run(SKIPPING.replace("REASON", "'ordering is per partition'"),
                  "-k", "fifo", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*contract skipped: ordering is per partition*"])


def test_skip_contract_without_a_reason_fails(plugin_run: PluginRun) -> None:
    result = plugin_run(SKIPPING.replace("REASON", "'  '"), "-k", "fifo")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*skipping a contract test needs a written reason*"])


def test_skip_contract_naming_an_unknown_test_fails(plugin_run: PluginRun) -> None:
    body = SKIPPING.replace("test_takes_are_fifo", "test_takes_are_fifoo").replace(
        "REASON", "'typo'")
    result = plugin_run(body, "-k", "round_trip")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*names 'test_takes_are_fifoo', which is not a contract test*"])
