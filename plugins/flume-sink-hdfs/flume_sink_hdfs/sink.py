"""``hdfs``: Flume's HDFSEventSink, bucketed rolling files on HDFS or locally.

Each event goes to the bucket named by ``hdfs.path`` and ``hdfs.filePrefix``
with their escapes resolved (``/logs/%{app}/%Y-%m-%d``). A bucket's file is
written under its in-use name (``FlumeData.<n>.tmp``) and renamed when it rolls:
after ``hdfs.rollCount`` events, ``hdfs.rollSize`` body bytes, ``hdfs.rollInterval``
seconds, ``hdfs.idleTimeout`` seconds without writes, on eviction beyond
``hdfs.maxOpenFiles``, and at stop.

Every batch is appended durably (``hsync`` on the file kept open on ``hdfs://``,
a WebHDFS CREATE/APPEND that returned on ``webhdfs://``, ``fsync`` on
``file://``) before the channel transaction commits. When a batch
fails, what it already wrote is cut back, so the retry does not repeat it. Every
in-use file is journaled in ``hdfs.stateDir`` before it is created, and every
batch (its files, offsets, lengths and the events' fingerprint) while its
writes are in flight, durable before the commit; at start a batch a kill -9
interrupted is either cut out of its files or, when it was complete and
journaled, its redelivery by the channel is committed without being written
again. Then the files the earlier run left open are cut back to their journaled
length (a batch written but not yet journaled was never committed) and renamed.

Filesystems: ``hdfs://nn:8020/path`` (HDFS's native protocol through
``hdfs-native``; truncates go to WebHDFS at ``hdfs.webhdfs.url``, default
``http://nn:50070``), ``webhdfs://nn:50070/path`` (WebHDFS only), and
``file:///path`` or a bare path (the local filesystem, the embedded default).
"""

from __future__ import annotations

import collections
import getpass
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import attrs

from flume_sdk import (
    SYSTEM_CLOCK,
    BatchSink,
    Clock,
    EscapeError,
    EscapeTemplate,
    Event,
    EventDeliveryException,
    Location,
    PluginRegistry,
    Status,
    at_least,
    namespace,
    one_of,
    resolve_serializer,
    setting,
)
from flume_sink_hdfs._codecs import Codec, codec_for
from flume_sink_hdfs._faults import CrashSwitch
from flume_sink_hdfs._files import FileNaming, Files, OpenFile
from flume_sink_hdfs._filesystem import (
    BoundedFileSystem,
    FileSystemError,
    LocalFileSystem,
    WebHdfsFileSystem,
)
from flume_sink_hdfs._fingerprint import fingerprint, matches
from flume_sink_hdfs._formats import (
    CompressedStreamFormat,
    DataStreamFormat,
    FileFormat,
    SequenceFileFormat,
)
from flume_sink_hdfs._journal import (
    BatchRecord,
    Expectation,
    Journal,
    OpenFileEntry,
    safe_writer_id,
)
from flume_sink_hdfs._native import SYNC_MODES, NativeHdfsFileSystem

__all__ = ["HdfsEventSink", "HdfsSinkSettings", "fingerprint", "split_location"]

log = logging.getLogger("flume_sink_hdfs")

_SERIALIZER_PREFIX = "serializer."
_DEFAULT_STATE_DIR = Path("~/.flume-sdk/hdfs-sink").expanduser()
_UNSUPPORTED = ("hdfs.kerberosPrincipal", "hdfs.kerberosKeytab")


def split_location(path: str) -> tuple[str, str, str]:
    """``hdfs.path`` as ``(scheme, authority, path template)``; bare paths have no scheme."""
    if "://" not in path:
        return "", "", path
    parts = urlsplit(path)
    return parts.scheme.lower(), parts.netloc, parts.path or "/"


@attrs.frozen(kw_only=True)
class HdfsSinkSettings:
    path: str = setting("hdfs.path", required=True,
                        help="directory URI with escapes: hdfs://nn:8020/x/%Y, webhdfs://, file://")
    file_prefix: str = setting("hdfs.filePrefix", default="FlumeData",
                               help="file name prefix (escapes allowed)")
    file_suffix: str = setting("hdfs.fileSuffix", default="",
                               help="file name suffix; default: the codec's extension")
    in_use_prefix: str = setting("hdfs.inUsePrefix", default="", help="prefix while written")
    in_use_suffix: str = setting("hdfs.inUseSuffix", default=".tmp", help="suffix while written")
    empty_in_use_suffix: bool = setting("hdfs.emptyInUseSuffix", default=False,
                                        help="write under the final name (no in-use suffix)")
    roll_interval: float = setting("hdfs.rollInterval", default=30.0, validator=at_least(0),
                                   help="seconds before a file is rolled; 0 = never")
    roll_size: int = setting("hdfs.rollSize", default=1024, validator=at_least(0),
                             help="body bytes before a file is rolled; 0 = never")
    roll_count: int = setting("hdfs.rollCount", default=10, validator=at_least(0),
                              help="events before a file is rolled; 0 = never")
    idle_timeout: float = setting("hdfs.idleTimeout", default=0.0, validator=at_least(0),
                                  help="seconds without writes before a file is closed; 0 = never")
    batch_size: int = setting("hdfs.batchSize", default=100, validator=at_least(1),
                              help="events per transaction")
    codec: str = setting("hdfs.codeC", default="",
                         help="gzip, bzip2, deflate or default (snappy and lzo are refused)")
    file_type: str = setting("hdfs.fileType", default="SequenceFile",
                             validator=one_of("SequenceFile", "DataStream", "CompressedStream"),
                             help="SequenceFile, DataStream or CompressedStream")
    write_format: str = setting("hdfs.writeFormat", default="Writable",
                                validator=one_of("Writable", "Text"),
                                help="SequenceFile values: Writable (BytesWritable) or Text")
    sequence_compression: str = setting("hdfs.sequenceFile.compressionType", default="BLOCK",
                                        validator=one_of("BLOCK", "RECORD"),
                                        help="SequenceFile compression with a codec")
    max_open_files: int = setting("hdfs.maxOpenFiles", default=5000, validator=at_least(1),
                                  help="open files before the least recently used is closed")
    call_timeout: int = setting("hdfs.callTimeout", default=30000, validator=at_least(1),
                                help="milliseconds any filesystem call may take")
    threads_pool_size: int = setting("hdfs.threadsPoolSize", default=10, validator=at_least(1),
                                     help="workers running filesystem calls")
    roll_timer_pool_size: int = setting("hdfs.rollTimerPoolSize", default=1,
                                        validator=at_least(1),
                                        help="accepted for Flume configs; rolls run in process()")
    min_block_replicas: int = setting("hdfs.minBlockReplicas", default=0,
                                      help="accepted for Flume configs; not used over WebHDFS")
    round: bool = setting("hdfs.round", default=False, help="round event times down")
    round_value: int = setting("hdfs.roundValue", default=1, help="multiple to round down to")
    round_unit: str = setting("hdfs.roundUnit", default="second",
                              validator=one_of("second", "minute", "hour"),
                              help="second, minute or hour")
    time_zone: str = setting("hdfs.timeZone", default="",
                             help="zone for time escapes (IANA name); empty = local")
    use_local_timestamp: bool = setting("hdfs.useLocalTimeStamp", default=False,
                                        help="use the agent's clock, not the timestamp header")
    close_tries: int = setting("hdfs.closeTries", default=0, validator=at_least(0),
                               help="tries to close/rename a file; 0 = until it works")
    retry_interval: float = setting("hdfs.retryInterval", default=180.0, validator=at_least(0),
                                    help="seconds between close tries")
    proxy_user: str = setting("hdfs.proxyUser", default="",
                              help="the user writes run as (doas), the real user being hdfs.user")
    sync_mode: str = setting("hdfs.syncMode", default="hflush", validator=one_of(*SYNC_MODES),
                             help="what makes a batch durable on hdfs://: hflush or hsync; "
                                  "hdfs-native has only hsync, which both run")
    kerberos_principal: str = setting("hdfs.kerberosPrincipal", default="",
                                      help="not supported (refused with the reason)")
    kerberos_keytab: str = setting("hdfs.kerberosKeytab", default="",
                                   help="not supported (refused with the reason)")
    webhdfs_url: str = setting("hdfs.webhdfs.url", default="", aliases=("hdfs.namenode.http",),
                               help="NameNode WebHDFS address for hdfs:// paths "
                                    "(default http://<namenode host>:50070)")
    user: str = setting("hdfs.user", default="",
                        help="the user HDFS calls run as; default: HADOOP_USER_NAME, else the "
                             "OS user")
    writer_id: str = setting("hdfs.writerId", default="",
                             help="this sink's identity in its journal; default: component name")
    state_dir: Path = setting("hdfs.stateDir", default=_DEFAULT_STATE_DIR,
                              help="local directory of the in-use file journal")
    serializer: str = setting("serializer", default="TEXT",
                              help="DataStream/CompressedStream serializer: text, "
                                   "header_and_text, avro_event or a class")
    serializer_properties: dict[str, str] = namespace(
        _SERIALIZER_PREFIX, help="the serializer's own keys")

    def problems(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        found += _codec_problems(self)
        found += _template_problems(self)
        found += _location_problems(self.path)
        found += [(key, "Kerberos is not supported: the WebHDFS client has no SPNEGO and the "
                        "native client's Kerberos is untested here (no KDC); use an unsecured "
                        "cluster or hdfs.proxyUser")
                  for key, value in zip(_UNSUPPORTED, (self.kerberos_principal,
                                                       self.kerberos_keytab), strict=True)
                  if value]
        return found


def _codec_problems(s: HdfsSinkSettings) -> list[tuple[str, str]]:
    if s.codec:
        try:
            codec_for(s.codec)
        except ValueError as exc:
            return [("hdfs.codeC", str(exc))]
    elif s.file_type.lower() == "compressedstream":
        return [("hdfs.codeC", "hdfs.fileType = CompressedStream needs a codec: set "
                               "hdfs.codeC = gzip (or bzip2, deflate)")]
    return []


def _template_problems(s: HdfsSinkSettings) -> list[tuple[str, str]]:
    found = []
    for key, template in (("hdfs.path", s.path), ("hdfs.filePrefix", s.file_prefix)):
        try:
            _template(s, template)
        except EscapeError as exc:
            bad = "hdfs.timeZone" if "time zone" in str(exc) else \
                "hdfs.roundValue" if "round" in str(exc) else key
            found.append((bad, str(exc)))
    return list(dict.fromkeys(found))  # a bad zone is one problem, not one per template


def _location_problems(path: str) -> list[tuple[str, str]]:
    scheme, _, rest = split_location(path)
    if scheme not in ("", "file", "hdfs", "webhdfs"):
        return [("hdfs.path", f"scheme {scheme!r} is not supported: use hdfs://, webhdfs:// "
                              f"or file:// (got {path!r})")]
    if not rest.startswith("/"):
        return [("hdfs.path", f"must be an absolute path or URI (got {path!r})")]
    return []


def _template(s: HdfsSinkSettings, template: str, clock: Clock = SYSTEM_CLOCK) -> EscapeTemplate:
    return EscapeTemplate(template=template, time_zone=s.time_zone or None, round=s.round,
                          round_value=s.round_value, round_unit=s.round_unit,
                          use_local_timestamp=s.use_local_timestamp, clock=clock)


_Plan = list[tuple[OpenFile, bytes]]
_Marks = dict[int, tuple[OpenFile, tuple[int, int, int]]]


@attrs.define(eq=False)
class _Bucket:
    directory: str
    prefix: str
    file: OpenFile | None = None


class HdfsEventSink(BatchSink):
    """Writes events into bucketed, rolling files; see the module docstring.

    Args:
        name: the sink's name (``k1``).
        settings: a :class:`HdfsSinkSettings`.
        clock: roll timers (monotonic), local timestamps and file counters (wall).
        registry: where ``serializer`` is looked up; the installed plugins by default.
        component: the sink's config path for messages (``a1.sinks.k1``).
        locations: where each key was written, for messages.

    Raises:
        ConfigurationError: the serializer or its keys are wrong.
    """

    Settings: ClassVar[type] = HdfsSinkSettings
    config_context: ClassVar[tuple[str, ...]] = ("component", "locations")
    settings: HdfsSinkSettings

    def __init__(
        self,
        name: str,
        settings: Any = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
        registry: PluginRegistry | None = None,
        component: str | None = None,
        locations: Mapping[str, Location] | None = None,
    ) -> None:
        super().__init__(name, settings, clock=clock)
        self.component = component or name
        self._codec: Codec | None = codec_for(self.settings.codec) if self.settings.codec \
            else None
        self._serializer = resolve_serializer(
            self.settings.serializer, self.settings.serializer_properties,
            component=self.component, key="serializer", locations=locations, registry=registry)
        scheme, self._authority, path_template = split_location(self.settings.path)
        self._scheme = scheme
        self._path = _template(self.settings, path_template, clock)
        self._prefix = _template(self.settings, self.settings.file_prefix, clock)
        self._lock = threading.RLock()
        self._buckets: collections.OrderedDict[str, _Bucket] = collections.OrderedDict()
        self._closing: list[OpenFile] = []
        self._finishing: list[OpenFile] = []
        self._files: Files | None = None
        self._pending: BatchRecord | None = None
        self._expect: Expectation | None = None
        self._orphans: list[OpenFileEntry] = []
        self._crash = CrashSwitch()
        self._in_flight: tuple[_Marks, list[OpenFile], bool] | None = None

    # -- what tests and operators look at ----------------------------------------------------

    @property
    def filesystem_description(self) -> str:
        return self._files.fs.description if self._files else "(not started)"

    @property
    def open_files(self) -> list[str]:
        """In-use paths of the files being written."""
        with self._lock:
            return [b.file.entry.in_use for b in self._buckets.values() if b.file]

    @property
    def files_closing(self) -> list[str]:
        """In-use paths whose close failed and is retried every ``hdfs.retryInterval``."""
        with self._lock:
            return [f.entry.in_use for f in self._closing]

    @property
    def files_finishing(self) -> list[str]:
        """In-use paths rolled and being closed in the background; renamed once closed."""
        with self._lock:
            return [f.entry.in_use for f in self._finishing]

    # -- lifecycle ---------------------------------------------------------------------------

    def do_start(self) -> None:
        s = self.settings
        journal = Journal(s.state_dir, safe_writer_id(s.writer_id or self.component))
        state = journal.open()
        fs = BoundedFileSystem(self._filesystem(), threads=s.threads_pool_size,
                               timeout=s.call_timeout / 1000.0, name=f"hdfs-{self.name}")
        suffix = s.file_suffix or (self._codec.extension if self._codec else "")
        naming = FileNaming(in_use_prefix=s.in_use_prefix, suffix=suffix,
                            in_use_suffix="" if s.empty_in_use_suffix else s.in_use_suffix)
        self._files = Files(fs, journal, naming, self._new_format,
                            int(self.clock.time() * 1000))
        self._pending, self._expect = state.pending, state.expect
        self._orphans = list(state.open.values())
        journal.compact()
        try:
            self._settle()
        except FileSystemError as exc:
            log.warning("hdfs sink %r cannot settle what its last run left yet (%s); it "
                        "retries before taking events", self.name, exc)

    def _settle(self) -> None:
        """Settle the batch in flight at a crash, then finish the orphaned files.

        Raises:
            FileSystemError: a file of the batch in flight cannot be checked yet.
        """
        files = self._require()
        if self._pending is not None:
            expect = files.settle(self._pending)
            self._pending = None
            self._expect = expect or self._expect
            files.journal.settled(self._expect)
        if self._orphans:
            orphans, self._orphans = self._orphans, []
            self._recover(orphans)

    def _filesystem(self) -> LocalFileSystem | WebHdfsFileSystem | NativeHdfsFileSystem:
        s = self.settings
        timeout = s.call_timeout / 1000.0
        user = s.user or os.environ.get("HADOOP_USER_NAME") or getpass.getuser()
        if self._scheme == "webhdfs":
            return WebHdfsFileSystem(f"http://{self._authority}", user, timeout=timeout,
                                     proxy_user=s.proxy_user)
        if self._scheme == "hdfs" or (self._scheme == "" and s.webhdfs_url):
            host = self._authority.split(":")[0] or "localhost"
            url = s.webhdfs_url or f"http://{host}:50070"
            webhdfs = WebHdfsFileSystem(url, user, timeout=timeout, proxy_user=s.proxy_user)
            if self._scheme == "":
                return webhdfs
            return NativeHdfsFileSystem(f"hdfs://{self._authority or host}", user,
                                        timeout=timeout, webhdfs=webhdfs,
                                        proxy_user=s.proxy_user)
        return LocalFileSystem()

    def _new_format(self) -> FileFormat:
        s = self.settings
        kind = s.file_type.lower()
        if kind == "sequencefile":
            return SequenceFileFormat(s.write_format, self._codec, s.sequence_compression,
                                      self.clock)
        stream = DataStreamFormat(self._serializer.cls, self._serializer.settings)
        if kind == "compressedstream" and self._codec is not None:
            return CompressedStreamFormat(stream, self._codec)
        return stream

    def _recover(self, orphans: list[Any]) -> None:
        files = self._require()
        now = self.clock.monotonic()
        for entry in orphans:
            log.info("hdfs sink %r finishing %s left open by an earlier run", self.name,
                     entry.in_use)
            try:
                file = files.orphan(entry, now)
            except FileSystemError as exc:
                log.warning("hdfs sink %r cannot check orphan %s yet: %s", self.name,
                            entry.in_use, exc)
                file = OpenFile(entry, None, now, now, written=0, trailer=b"", suspect=True)
            self._finish(file)

    def do_stop(self) -> None:
        with self._lock:
            files = self._files
            if files is None:
                return
            left = [b.file for b in self._buckets.values() if b.file is not None]
            left += self._finishing + self._closing
            self._buckets.clear()
            self._finishing, self._closing = [], []
            for file in left:
                self._finish(file, retry=False)
            files.journal.compact()
            files.fs.close()
            files.journal.close()
            self._files = None

    def _require(self) -> Files:
        if self._files is None:
            msg = f"hdfs sink {self.name!r} is not started; call start() first"
            raise RuntimeError(msg)
        return self._files

    # -- the batch path ----------------------------------------------------------------------

    def process(self) -> Status:
        """Take a batch, append it durably, commit, journal the commit, then roll full files.

        After a restart the first batch is compared with the batch that was in the
        files but not committed at the crash; when it is that batch again, it is
        committed without being written twice.
        """
        with self._lock:
            if self._pending is not None or self._orphans:
                self._settle_or_fail()
            self._roll_due()
            self._in_flight = None
            return super().process()  # deliver() inside the take, commit, then a hook below

    def deliver(self, events: Sequence[Event]) -> None:
        """Journal and append ``events`` durably (less a redelivery already written)."""
        with self._lock:
            skip = self._redelivered(events)
            journaled = skip < len(events) or self._expect is not None
            marks, full = self._deliver(events, skip) if skip < len(events) else ({}, [])
            self._in_flight = (marks, full, journaled)
            self._crash.reached("after-append")

    def on_commit_failed(self, events: Sequence[Event]) -> None:
        """The batch was appended but the channel did not commit: take it back out."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            self._undo(in_flight[0], in_flight[1])

    def on_commit(self, events: Sequence[Event]) -> None:
        """Journal the commit, then finish the files the batch filled."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            self._committed(*in_flight)

    def _committed(self, marks: _Marks, full: list[OpenFile], journaled: bool) -> None:
        self._crash.reached("after-commit")
        if journaled:
            self._require().journal.committed()
        self._expect = None
        for file in full:
            self._finish_soon(file)

    def _settle_or_fail(self) -> None:
        try:
            self._settle()
        except FileSystemError as exc:
            msg = (f"hdfs sink {self.component!r} cannot settle the batch it was writing when "
                   f"it last stopped: {exc}; nothing is taken from the channel until it can")
            raise EventDeliveryException(msg) from exc

    def _redelivered(self, events: Sequence[Event]) -> int:
        """How many leading ``events`` are the redelivery of a batch already written."""
        expect = self._expect
        if expect is None:
            return 0
        if len(events) >= expect.count and \
                matches(events[:expect.count], expect.fingerprint):
            log.info("hdfs sink %r: the first %d events taken after the restart were written "
                     "before the crash; committing them without writing them again", self.name,
                     expect.count)
            return expect.count
        if len(events) < expect.count:
            log.warning("hdfs sink %r: %d events were written but not committed before the "
                        "crash; the first batch after the restart has only %d (was "
                        "hdfs.batchSize lowered?), so any redelivery is written again",
                        self.name, expect.count, len(events))
        return 0

    def _deliver(self, events: Sequence[Event], skip: int) -> tuple[_Marks, list[OpenFile]]:
        """Append and journal ``events[skip:]``; returns what :meth:`_undo` needs."""
        groups = self._group(events[skip:])
        marks: _Marks = {}
        full: list[OpenFile] = []
        plan: _Plan = []
        try:
            for key, (directory, prefix, members) in groups.items():
                self._plan_bucket(key, directory, prefix, members, marks, full, plan)
            self._crash.reached("before-append")
            self._write(events, plan)
        except Exception as exc:
            self._undo(marks, full)
            raise self._error(len(events) - skip, exc) from exc
        return marks, full

    def _write(self, events: Sequence[Event], plan: _Plan) -> None:
        """Append every part of the batch durably and journal it, the two side by side.

        The parts' writes are started first (each on the filesystem's workers, to its
        own file); while they are in flight this thread fingerprints the batch and
        writes its journal record with ``fdatasync``. Both must be over before the
        channel commits. A kill -9 before the record is durable leaves bytes beyond
        the files' journaled ends, which the next start cuts (the batch was never
        committed, so the channel delivers it again).
        """
        files = self._require()
        parts = tuple((f.entry.in_use, f.written, len(payload)) for f, payload in plan)
        if plan and self._crash.armed("mid-append"):
            files.journal.batch(BatchRecord(len(events), fingerprint(events), parts))
            files.put_torn(plan[0][0], plan[0][1], self._crash)
        now = self.clock.monotonic()
        waits = []
        failure: BaseException | None = None
        try:
            for file, payload in plan:
                waits.append(files.start_put(file, payload, now))
            if self._crash.armed("unjournaled-append"):
                for wait in waits:
                    wait()
                self._crash.crash()
            files.journal.batch(BatchRecord(len(events), fingerprint(events), parts))
        except BaseException as exc:
            failure = exc
        for wait in waits:  # every write is over before anything is cut back
            try:
                wait()
            except BaseException as exc:
                failure = failure or exc
        if failure is not None:
            raise failure

    def _group(self, events: Sequence[Event]) -> dict[str, tuple[str, str, list[Event]]]:
        if self._path.is_constant and self._prefix.is_constant:
            # One bucket for every event: no per-event resolving.
            directory, prefix = self._path.resolve({}), self._prefix.resolve({})
            return {f"{directory}/{prefix}": (directory, prefix, list(events))} if events else {}
        stamp = int(self.clock.time() * 1000) if self.settings.use_local_timestamp else None
        headers = [event.headers for event in events]
        try:
            # Each distinct bucket name is formatted once per batch, not once per event.
            directories = self._path.resolve_all(headers, stamp)
            prefixes = self._prefix.resolve_all(headers, stamp)
        except EscapeError as exc:
            msg = f"hdfs sink {self.component!r} cannot name the bucket of an event: {exc}"
            raise EventDeliveryException(msg) from exc
        members: dict[tuple[str, str], list[Event]] = {}
        for event, directory, prefix in zip(events, directories, prefixes, strict=True):
            found = members.get((directory, prefix))
            if found is None:
                found = members[directory, prefix] = []
            found.append(event)
        return {f"{directory}/{prefix}": (directory, prefix, group)
                for (directory, prefix), group in members.items()}

    def _plan_bucket(
        self, key: str, directory: str, prefix: str, events: list[Event],
        marks: _Marks, full: list[OpenFile], plan: _Plan,
    ) -> None:
        files = self._require()
        bucket = self._bucket(key, directory, prefix)
        while events:
            if bucket.file is None:
                bucket.file = files.open(directory, prefix, self.clock.monotonic())
                self.counter.incr("ConnectionCreatedCount")
            file = bucket.file
            if file.suspect and not files.reconcile(file):
                bucket.file = None
                self._finish(file)
                continue
            count = self._room(file, events)
            marks.setdefault(id(file), (file, file.mark))
            plan.append((file, files.encode(file, events[:count])))
            events = events[count:]
            if self._is_full(file):
                bucket.file = None
                full.append(file)

    def _bucket(self, key: str, directory: str, prefix: str) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(directory, prefix)
            self._evict()
        else:
            self._buckets.move_to_end(key)
        return bucket

    def _evict(self) -> None:
        while len(self._buckets) > self.settings.max_open_files:
            _, oldest = self._buckets.popitem(last=False)
            if oldest.file is not None:
                self._finish(oldest.file)

    def _room(self, file: OpenFile, events: list[Event]) -> int:
        s = self.settings
        count = len(events)
        if s.roll_count:
            count = min(count, max(s.roll_count - file.events, 1))
        if s.roll_size:
            total, taken = file.body_bytes, 0
            while taken < count and (taken == 0 or total < s.roll_size):
                total += len(events[taken].body)
                taken += 1
            count = taken
        return count

    def _is_full(self, file: OpenFile) -> bool:
        s = self.settings
        return bool((s.roll_count and file.events >= s.roll_count) or
                    (s.roll_size and file.body_bytes >= s.roll_size))

    def _undo(self, marks: _Marks, full: list[OpenFile]) -> None:
        files = self._require()
        for file, mark in marks.values():
            files.cut_back(file, mark)
        try:
            if marks:
                files.journal.ended({f.entry.in_use: f.written for f, _ in marks.values()},
                                    batch_dropped=True)
        except OSError as exc:
            log.warning("hdfs sink %r could not journal that its failed batch was cut back "
                        "(%s); the next start settles it from the batch record", self.name, exc)
        for file in full:
            self._finish(file)

    def _error(self, count: int, exc: BaseException) -> EventDeliveryException:
        if isinstance(exc, EventDeliveryException):
            return exc
        msg = (f"hdfs sink {self.component!r} could not write {count} event(s): {exc}; they "
               "stay in the channel and are retried")
        return EventDeliveryException(msg)

    # -- rolling and closing -----------------------------------------------------------------

    def _roll_due(self) -> None:
        if self._files is None:
            return
        now = self.clock.monotonic()
        s = self.settings
        for bucket in self._buckets.values():
            file = bucket.file
            if file is None or (file.written == 0 and not file.suspect):
                continue
            timed = s.roll_interval and now >= file.opened_at + s.roll_interval
            idle = s.idle_timeout and now >= file.last_write + s.idle_timeout
            if timed or idle:
                bucket.file = None
                self._finish_soon(file)
        fs = self._files.fs
        for file in [f for f in self._finishing if not fs.closing(f.entry.in_use)]:
            self._finishing.remove(file)
            self._finish(file)
        for file in [f for f in self._closing if now >= f.next_close]:
            self._closing.remove(file)
            self._finish(file)

    def _finish_soon(self, file: OpenFile) -> None:
        """Roll ``file``: closed in the background where the filesystem can (hdfs://), its
        rename done by a later :meth:`process` once the close is over; at once elsewhere."""
        files = self._require()
        try:
            files.begin_finish(file)
        except Exception as exc:
            log.warning("hdfs sink %r could not start closing %s (%s); closing it now",
                        self.name, file.entry.in_use, exc)
        if files.fs.closing(file.entry.in_use):
            self._finishing.append(file)
        else:
            self._finish(file)

    def _finish(self, file: OpenFile, *, retry: bool = True) -> bool:
        """Close ``file``; on failure keep it for a retry every ``hdfs.retryInterval``."""
        files = self._require()
        file.close_tries += 1
        try:
            files.finish(file)
        except Exception as exc:
            self._close_failed(file, exc, retry)
            return False
        self.counter.incr("ConnectionClosedCount")
        return True

    def _close_failed(self, file: OpenFile, exc: BaseException, retry: bool) -> None:
        self.counter.incr("ConnectionFailedCount")
        tries = self.settings.close_tries
        if not retry or (tries and file.close_tries >= tries):
            log.error("hdfs sink %r gave up closing %s (%s); it stays under its in-use name "
                      "until the next start finishes it", self.name, file.entry.in_use, exc)
            return
        log.warning("hdfs sink %r could not close %s (%s); retrying in %g s", self.name,
                    file.entry.in_use, exc, self.settings.retry_interval)
        file.next_close = self.clock.monotonic() + self.settings.retry_interval
        self._closing.append(file)
