"""Build an agent's components from its configuration, collecting every problem first.

The build instantiates (but never starts) every channel, source, sink,
selector, interceptor and sink processor, so ``flume-ng validate`` finds
exactly what the runtime would reject. In strict mode (the default) any error
raises :class:`ConfigurationError` listing all of them; in lenient mode,
Flume's behaviour, a failing component is dropped with everything that
depended on it, and the rest is returned.
"""

from __future__ import annotations

import difflib
from typing import TypeVar

import attrs

from flume_sdk._channel import Channel
from flume_sdk._channel_processor import ChannelProcessor
from flume_sdk._clock import SYSTEM_CLOCK, Clock
from flume_sdk._config import AgentConfig, ComponentConfig
from flume_sdk._configurable import Configurable
from flume_sdk._errors import ConfigurationError, Location, PluginError, Problem
from flume_sdk._interceptor import Interceptor
from flume_sdk._plugins import PluginKind, PluginRegistry, default_registry
from flume_sdk._runners import SinkRunner, SourceRunner
from flume_sdk._selector import ChannelSelector
from flume_sdk._sink import Sink
from flume_sdk._sink_processor import SinkProcessor
from flume_sdk._source import Source

__all__ = ["Pipeline", "build_pipeline"]

C = TypeVar("C", bound=Configurable)

_FRAMEWORK_KEYS = {
    "sources": ("type", "channels", "selector.", "interceptors", "config"),
    "sinks": ("type", "channel", "config"),
    "channels": ("type", "config"),
}


@attrs.define
class Pipeline:
    """The built components of one agent, ready to start."""

    config: AgentConfig
    channels: dict[str, Channel] = attrs.Factory(dict)
    sources: dict[str, Source] = attrs.Factory(dict)
    sinks: dict[str, Sink] = attrs.Factory(dict)
    source_runners: list[SourceRunner] = attrs.Factory(list)
    sink_runners: list[SinkRunner] = attrs.Factory(list)
    warnings: list[Problem] = attrs.Factory(list)

    def components(self) -> list[Source | Channel | Sink]:
        return [*self.sources.values(), *self.channels.values(), *self.sinks.values()]


@attrs.define
class _Build:
    config: AgentConfig
    registry: PluginRegistry
    clock: Clock
    running: Pipeline | None = None
    problems: list[Problem] = attrs.Factory(list)
    warnings: list[Problem] = attrs.Factory(list)

    def fail(self, component: ComponentConfig | str, message: str, key: str | None = None,
             suggestion: str | None = None) -> None:
        if isinstance(component, ComponentConfig):
            location = (component.locations.get(key) if key else None) or component.location
            self.problems.append(Problem(component.path, message, key, location, suggestion))
        else:
            self.problems.append(Problem(component, message, key, suggestion=suggestion))

    def load(self, kind: PluginKind, conf: ComponentConfig, type_name: str | None,
             key: str = "type") -> type | None:
        if not type_name:
            self.fail(conf, f"has no {key}", key, f"set {conf.path}.{key} = ...")
            return None
        try:
            return self.registry.load(kind, type_name)
        except PluginError as exc:
            self.fail(conf, str(exc), key)
            return None

    def construct(self, conf: ComponentConfig, cls: type | None, expected: type[C],
                  props: dict[str, str], locations: dict[str, Location], target: object,
                  **options: object) -> C | None:
        """``cls.from_config(target, props, ...)``, or ``None`` with the problems recorded."""
        if cls is None:
            return None  # not loaded: already reported
        if not issubclass(cls, expected):
            self.fail(conf, f"type {cls.__module__}.{cls.__qualname__} is not a "
                      f"flume_sdk.{expected.__name__}")
            return None
        try:
            built = cls.from_config(target, props, component=conf.path, locations=locations,
                                    **options)
            self.warnings.extend(built.config_warnings)
            return built
        except ConfigurationError as exc:
            self.problems.extend(exc.problems)
        except Exception as exc:
            self.fail(conf, f"could not be configured: {type(exc).__name__}: {exc}")
        return None


def _own_properties(conf: ComponentConfig, reported: set[str] | None = None
                    ) -> tuple[dict[str, str], dict[str, Location]]:
    skip = _FRAMEWORK_KEYS.get(conf.section, ("type",))
    keep = {k: v for k, v in conf.properties.items() if k not in (reported or ())
            and not any(k == s or (s.endswith(".") and k.startswith(s)) or
                       (s == "interceptors" and k.startswith("interceptors.")) for s in skip)}
    return keep, {k: conf.locations[k] for k in keep if k in conf.locations}


def build_pipeline(
    config: AgentConfig,
    *,
    registry: PluginRegistry | None = None,
    clock: Clock = SYSTEM_CLOCK,
    lenient: bool = False,
    running: Pipeline | None = None,
) -> Pipeline:
    """Instantiate every component of ``config``.

    Args:
        running: the pipeline being replaced on reload; its channels whose type and
            properties did not change are reused as they are, queued events included, and
            so are its sources whose keys did not change and whose channels are all reused.

    Raises:
        ConfigurationError: (strict mode) with every error found, including those
            found while reading the configuration.
    """
    build = _Build(config, registry or default_registry(), clock, running)
    build.problems.extend(p for p in config.problems if p.severity == "error")
    pipeline = Pipeline(config, warnings=[p for p in config.problems if p.severity != "error"])
    _build_channels(build, pipeline)
    _build_sources(build, pipeline)
    _build_sinks(build, pipeline)
    _build_sink_runners(build, pipeline)
    if not pipeline.sources and not pipeline.sinks and not build.problems:
        build.fail(config.name, "has no sources and no sinks; nothing would run",
                   suggestion=f"list components in {config.name}.sources / {config.name}.sinks")
    if build.problems and not lenient:
        raise ConfigurationError(build.problems)
    pipeline.warnings.extend([*build.warnings, *build.problems])
    return pipeline


def _build_channels(build: _Build, pipeline: Pipeline) -> None:
    for name, conf in build.config.channels.items():
        previous = build.running.channels.get(name) if build.running else None
        if previous is not None and build.running is not None and \
                build.running.config.channels[name].properties == conf.properties:
            pipeline.channels[name] = previous
            continue
        cls = build.load(PluginKind.CHANNEL, conf, conf.type)
        if cls is None:
            continue
        props, locs = _own_properties(conf)
        channel = build.construct(conf, cls, Channel, props, locs, name, clock=build.clock)
        if channel is not None:
            pipeline.channels[name] = channel


def _build_sources(build: _Build, pipeline: Pipeline) -> None:
    for name, conf in build.config.sources.items():
        if _reuse_source(build, pipeline, name, conf):
            continue
        typos = _wiring_typos(build, conf)
        channels = _source_channels(build, pipeline, conf)
        cls = build.load(PluginKind.SOURCE, conf, conf.type)
        props, locs = _own_properties(conf, typos)
        source = build.construct(conf, cls, Source, props, locs, name, clock=build.clock)
        processor = _channel_processor(build, conf, channels)
        if source is None or processor is None or not channels:
            continue
        _check_batch(build, conf, source.batch_size, channels)
        source.set_channel_processor(processor)
        pipeline.sources[name] = source
        pipeline.source_runners.append(SourceRunner(source, build.clock))


def _reuse_source(build: _Build, pipeline: Pipeline, name: str, conf: ComponentConfig) -> bool:
    """Keep a running source whose keys (interceptors and selector included) and channels did
    not change: its clients stay connected across the reload."""
    running = build.running
    if running is None or name not in running.sources:
        return False
    previous_conf = running.config.sources.get(name)
    if previous_conf is None or previous_conf.properties != conf.properties:
        return False
    names = conf.words("channels")
    if not names or any(pipeline.channels.get(c) is None or
                        pipeline.channels.get(c) is not running.channels.get(c) for c in names):
        return False
    source = running.sources[name]
    runner = next((r for r in running.source_runners if r.source is source), None)
    if runner is None:
        return False
    pipeline.sources[name] = source
    pipeline.source_runners.append(runner)
    return True


def _source_channels(build: _Build, pipeline: Pipeline, conf: ComponentConfig) -> list[Channel]:
    names = conf.words("channels")
    if not names:
        build.fail(conf, "has no channels", "channels", f"set {conf.path}.channels = <channel>")
        return []
    out = []
    for channel_name in names:
        if channel_name in pipeline.channels:
            out.append(pipeline.channels[channel_name])
        elif channel_name not in build.config.channels:
            build.fail(conf, f"names channel {channel_name!r}, which is not defined", "channels",
                       _did_you_mean(channel_name, build.config.channels, "channels"))
    return out


def _channel_processor(build: _Build, conf: ComponentConfig,
                       channels: list[Channel]) -> ChannelProcessor | None:
    props, locs = conf.sub("selector.")
    selector_type = props.pop("type", "replicating")
    locs.pop("type", None)
    selector_conf = ComponentConfig("selector", "selector", f"{conf.path}.selector", props, locs)
    cls = build.load(PluginKind.CHANNEL_SELECTOR, conf, selector_type, "selector.type")
    selector = build.construct(selector_conf, cls, ChannelSelector, props, locs, channels)
    interceptors = _interceptors(build, conf)
    if selector is None or interceptors is None:
        return None
    return ChannelProcessor(selector, interceptors)


def _interceptors(build: _Build, conf: ComponentConfig) -> list[Interceptor] | None:
    out: list[Interceptor] = []
    ok = True
    for name in conf.words("interceptors"):
        props, locs = conf.sub(f"interceptors.{name}.")
        path = f"{conf.path}.interceptors.{name}"
        sub_conf = ComponentConfig("interceptors", name, path, props, locs)
        cls = build.load(PluginKind.INTERCEPTOR, sub_conf, props.pop("type", None))
        locs.pop("type", None)
        interceptor = build.construct(sub_conf, cls, Interceptor, props, locs, name,
                                      clock=build.clock)
        if interceptor is not None:
            out.append(interceptor)
        else:
            ok = False
    return out if ok else None


def _check_batch(build: _Build, conf: ComponentConfig, batch: int | None,
                 channels: list[Channel]) -> None:
    for channel in channels:
        if batch is not None and batch > channel.transaction_capacity:
            key = next((k for k in ("batchSize", "batch-size", "sink.batchSize") if k in
                        conf.properties), "batchSize")
            build.fail(conf, f"batch size {batch} exceeds transactionCapacity "
                       f"{channel.transaction_capacity} of channel {channel.name!r}", key,
                       "lower the batch size or raise the channel's transactionCapacity")


def _build_sinks(build: _Build, pipeline: Pipeline) -> None:
    for name, conf in build.config.sinks.items():
        channel_name = conf.properties.get("channel", "").strip()
        channel = pipeline.channels.get(channel_name)
        if not channel_name:
            build.fail(conf, "has no channel", "channel", f"set {conf.path}.channel = <channel>")
        elif channel_name not in build.config.channels:
            build.fail(conf, f"names channel {channel_name!r}, which is not defined", "channel",
                       _did_you_mean(channel_name, build.config.channels, "channels"))
        elif len(channel_name.split()) > 1:
            build.fail(conf, "takes exactly one channel", "channel")
        typos = _wiring_typos(build, conf)
        cls = build.load(PluginKind.SINK, conf, conf.type)
        props, locs = _own_properties(conf, typos)
        sink = build.construct(conf, cls, Sink, props, locs, name, clock=build.clock)
        if sink is not None and channel is not None:
            _check_batch(build, conf, sink.batch_size, [channel])
            sink.set_channel(channel)
            pipeline.sinks[name] = sink


def _build_sink_runners(build: _Build, pipeline: Pipeline) -> None:
    grouped: dict[str, str] = {}
    for name, conf in build.config.sinkgroups.items():
        sinks = []
        for sink_name in conf.words("sinks"):
            if sink_name in grouped:
                build.fail(conf, f"sink {sink_name!r} is already in sink group "
                           f"{grouped[sink_name]!r}", "sinks")
            elif sink_name not in build.config.sinks:
                build.fail(conf, f"names sink {sink_name!r}, which is not defined", "sinks",
                           _did_you_mean(sink_name, build.config.sinks, "sinks"))
            else:
                grouped[sink_name] = name
                if sink_name in pipeline.sinks:
                    sinks.append(pipeline.sinks[sink_name])
        if not conf.words("sinks"):
            build.fail(conf, "has no sinks", "sinks")
        _sinkgroup_keys(build, conf)
        props, locs = conf.sub("processor.")
        processor_type = props.pop("type", None)
        locs.pop("type", None)
        cls = build.load(PluginKind.SINK_PROCESSOR, conf, processor_type, "processor.type")
        sub = ComponentConfig("processor", "processor", f"{conf.path}.processor", props, locs)
        processor = build.construct(sub, cls, SinkProcessor, props, locs, sinks, clock=build.clock)
        if processor is not None and sinks:
            pipeline.sink_runners.append(SinkRunner(name, processor, build.clock, group=True))
    default_cls = build.registry.load(PluginKind.SINK_PROCESSOR, "default")
    for name, sink in pipeline.sinks.items():
        if name not in grouped:
            processor = default_cls([sink], clock=build.clock, component=name)
            pipeline.sink_runners.append(SinkRunner(name, processor, build.clock))


def _did_you_mean(name: str, known: dict[str, ComponentConfig], what: str) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    defined = f"defined {what}: {', '.join(known)}" if known else f"no {what} are defined"
    return f"did you mean {close[0]!r}? {defined}" if close else defined


# Keys a component section uses for wiring, and what a near miss of them should have been.
_WIRING_TYPOS = {
    "sources": {"interceptor": "interceptors", "channel": "channels", "selectors": "selector"},
    "sinks": {"channels": "channel"},
}


def _wiring_typos(build: _Build, conf: ComponentConfig) -> set[str]:
    """Report wiring keys with a near-miss spelling (``interceptor``); return those keys."""
    typos = _WIRING_TYPOS.get(conf.section, {})
    found = set()
    for key in conf.properties:
        head, dot, rest = key.partition(".")
        if head in typos:
            right = typos[head] + dot + rest
            build.fail(conf, "is not a key of a " + conf.section[:-1], key,
                       f"did you mean {right!r}?")
            found.add(key)
    return found


def _sinkgroup_keys(build: _Build, conf: ComponentConfig) -> None:
    """A sink group has ``sinks`` and ``processor.*``; anything else is an error."""
    for key in conf.properties:
        if key == "sinks" or key.startswith("processor."):
            continue
        head, _, rest = key.partition(".")
        if rest and difflib.get_close_matches(head, ["processor"], n=1, cutoff=0.7):
            hint = f"did you mean 'processor.{rest}'?"
        else:
            close = difflib.get_close_matches(key, ["sinks", "processor.type"], n=1)
            hint = (f"did you mean {close[0]!r}? " if close else "") + \
                "a sink group's keys are sinks and processor.*"
        build.fail(conf, "is not a key of a sink group", key, hint)
