"""``flume-ng``: run an agent, validate a configuration, list plugins.

Subcommands provided by plugin distributions (``avro-client``, ``channel``)
are found in the ``flume_sdk.cli`` entry-point group: the name is the
subcommand, the value a ``main(argv) -> int`` function.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from flume_sdk import __version__
from flume_sdk._agent import Agent, load_config
from flume_sdk._errors import ConfigurationError, Problem
from flume_sdk._ganglia import GangliaReporter
from flume_sdk._gc_tuning import DEFAULT_GC_THRESHOLD, tune_garbage_collector
from flume_sdk._health_report import HealthPolicy
from flume_sdk._log_format import LOG_FORMATS, LOG_LEVELS, configure_logging, level_from
from flume_sdk._monitoring import MonitoringServer
from flume_sdk._new_plugin import KINDS, new_plugin
from flume_sdk._pipeline import build_pipeline
from flume_sdk._plugins import PluginInfo, PluginRegistry, check_all, default_registry
from flume_sdk._settings import SettingDoc, describe_settings
from flume_sdk._tls import TlsDefaults, using_tls_defaults

__all__ = ["main"]

log = logging.getLogger("flume_sdk.cli")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flume-ng", description="flume-sdk agent and tools")
    sub = parser.add_subparsers(dest="command", required=True)
    agent = sub.add_parser("agent", help="run an agent")
    agent.add_argument("-n", "--name", required=True, help="the agent name in the config")
    _config_options(agent)
    agent.add_argument("-c", "--conf", type=Path, help="configuration directory (relative -f)")
    _defines_option(agent)
    agent.add_argument("--no-reload-conf", action="store_true", help="never reload the config")
    agent.add_argument("-i", "--poll-interval", type=float, default=30.0,
                       help="seconds between config file checks (default 30)")
    agent.add_argument("--gc-threshold", type=int, default=DEFAULT_GC_THRESHOLD, metavar="N",
                       help="allocations between garbage collections (0: Python's default); "
                       f"default {DEFAULT_GC_THRESHOLD}")
    agent.add_argument("--drain-timeout", type=float, default=5.0,
                       help="seconds sinks may keep draining on shutdown (default 5)")
    agent.add_argument("--log-level", type=str.upper, choices=LOG_LEVELS, metavar="LEVEL",
                       help="DEBUG, INFO, WARNING or ERROR (default: -Dflume.root.logger, else "
                       "INFO); tracebacks are written only at DEBUG")
    agent.add_argument("--log-format", choices=LOG_FORMATS, default="text",
                       help="text (default) or json: one JSON object per line")
    validate = sub.add_parser("validate", help="check a configuration; exit 1 on any error")
    validate.add_argument("-n", "--name", help="only this agent (default: every agent)")
    _config_options(validate)
    _defines_option(validate)
    plugins = sub.add_parser("plugins", help="list installed component types")
    plugins.add_argument("--check", action="store_true", help="import each and report")
    plugins.add_argument("--json", action="store_true", help="machine-readable output")
    sub.add_parser("version", help="print the version")
    new = sub.add_parser("new-plugin", help="write a working plugin distribution with its "
                         "contract test")
    new.add_argument("kind", choices=KINDS, help="what the plugin provides")
    new.add_argument("name", help="its type alias in flume.conf (lower case, e.g. mything)")
    new.add_argument("-d", "--directory", type=Path, default=Path(),
                     help="where to create flume-<kind>-<name>/ (default: here)")
    for ep in md.entry_points(group="flume_sdk.cli"):
        extra = sub.add_parser(ep.name, help=f"provided by {ep.value}", add_help=False)
        extra.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def _defines_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-D", dest="defines", action="append", default=[], metavar="KEY=VALUE",
                        help="system property, e.g. -Dflume.monitoring.type=http or "
                        "-Djavax.net.ssl.keyStore=/etc/flume/ks.pem")


def _config_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--conf-file", dest="files", action="append", required=True,
                        type=Path, help="properties file (repeatable; later keys win)")
    parser.add_argument("--lenient", action="store_true",
                        help="Flume's behaviour: drop invalid components and start the rest")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    plugin_commands = {ep.name: ep for ep in md.entry_points(group="flume_sdk.cli")}
    if argv and argv[0] in plugin_commands:
        return int(plugin_commands[argv[0]].load()(argv[1:]) or 0)
    if argv and argv[0] in ("avro-client", "channel"):
        print(f"flume-ng {argv[0]} is provided by a plugin that is not installed "
              f"({'flume-rpc-avro' if argv[0] == 'avro-client' else 'flume-channel-file'})",
              file=sys.stderr)
        return 2
    args = _parser().parse_args(argv)
    handler = {"agent": _agent, "validate": _validate, "plugins": _plugins,
               "version": _version, "new-plugin": _new_plugin}[args.command]
    return handler(args)


def _new_plugin(args: argparse.Namespace) -> int:
    try:
        target = new_plugin(args.kind, args.name, args.directory)
    except ConfigurationError as exc:
        print(f"flume-ng: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {target}\nnext: cd {target} && pip install -e '.[test]' && pytest")
    return 0


def _version(args: argparse.Namespace) -> int:
    print(f"flume-sdk {__version__}")
    return 0


def _defines(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        out[key.strip()] = value.strip()
    return out




def _resolve_files(files: list[Path], conf_dir: Path | None) -> list[Path]:
    if conf_dir is None:
        return files
    return [f if f.is_absolute() or f.exists() else conf_dir / f for f in files]


def _agent(args: argparse.Namespace) -> int:
    defines = _defines(args.defines)
    configure_logging(level_from(args.log_level, defines), args.log_format)
    tune_garbage_collector(args.gc_threshold)
    try:
        policy = HealthPolicy.from_properties(defines)
        agent = Agent(args.name, _resolve_files(args.files, args.conf), system_properties=defines,
                      lenient=args.lenient, drain_timeout=args.drain_timeout, health_policy=policy)
        monitor = _monitoring(agent, defines)
        agent.start()
    except ConfigurationError as exc:
        print(f"flume-ng: configuration of agent {args.name!r} has errors; nothing started:\n"
              f"{exc}", file=sys.stderr)
        return 1
    stop, reload_now = threading.Event(), threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()
        reload_now.set()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGHUP, lambda s, f: reload_now.set())
    if monitor:
        monitor.start()
    log.info("agent %s started (generation %d)", args.name, agent.generation)
    while not stop.is_set():
        reload_now.wait(args.poll_interval)
        forced = reload_now.is_set() and not stop.is_set()
        reload_now.clear()
        if stop.is_set():
            break
        if forced:
            agent.reload()
        elif not args.no_reload_conf:
            agent.reload_if_changed()
    log.info("agent %s stopping", args.name)
    if monitor:
        monitor.stop()
    agent.stop()
    log.info("agent %s stopped", args.name)
    return 0


def _monitoring(agent: Agent, defines: dict[str, str]) -> MonitoringServer | GangliaReporter | None:
    """The reporter ``-Dflume.monitoring.type`` asks for, built but not started.

    Raises:
        ConfigurationError: an unknown type or a bad ``flume.monitoring.*`` value.
    """
    kind = defines.get("flume.monitoring.type", "").lower()
    if not kind:
        return None
    if kind in ("ganglia", "org.apache.flume.instrumentation.gangliaserver"):
        reporter = GangliaReporter.from_properties(agent.counters, defines)
        log.info("monitoring (ganglia) to %s every %.0fs", reporter.hosts, reporter.poll_frequency)
        return reporter
    if kind not in ("http", "prometheus"):
        raise ConfigurationError([Problem("-Dflume", f"type {kind!r} is not supported",
                                          "monitoring.type",
                                          suggestion="http, prometheus or ganglia")])
    port = int(defines.get("flume.monitoring.port", "41414"))
    host = defines.get("flume.monitoring.host", "0.0.0.0")
    server = MonitoringServer(agent.counters, agent.health, host=host, port=port, agent=agent.name,
                              prometheus=kind == "prometheus")
    log.info("monitoring (%s) on http://%s:%d/metrics", kind, host, server.port)
    return server


def _validate(args: argparse.Namespace) -> int:
    from flume_sdk._config import agent_names
    from flume_sdk._properties import read_properties

    try:
        entries = [e for f in args.files for e in read_properties(f)]
    except ConfigurationError as exc:
        print(exc, file=sys.stderr)
        return 1
    names = [args.name] if args.name else agent_names(entries)
    defines = _defines(args.defines)
    failed = False
    for name in names:
        try:
            config = load_config(args.files, name, system_properties=defines)
            with using_tls_defaults(TlsDefaults.resolve(defines)):
                pipeline = build_pipeline(config, lenient=args.lenient)
        except ConfigurationError as exc:
            failed = True
            count = len(exc.problems)
            print(f"agent {name}: {count} error{'s' * (count != 1)}", file=sys.stderr)
            for problem in exc.problems:
                print(f"  {problem}", file=sys.stderr)
            continue
        for warning in pipeline.warnings:
            print(f"  warning: {warning}", file=sys.stderr)
        print(f"agent {name}: OK ({len(pipeline.sources)} sources, {len(pipeline.channels)} "
              f"channels, {len(pipeline.sinks)} sinks)")
    return 1 if failed else 0


def _plugins(args: argparse.Namespace) -> int:
    registry = default_registry()
    rows = check_all(registry) if args.check else [(i, None) for i in registry.available()]
    failed = any(err for _, err in rows)
    if args.json:
        out = []
        for info, err in rows:
            row: dict[str, object] = {"kind": info.kind.label, "type": info.type_name, "class": info.value,
                   "distribution": info.distribution, "version": info.version}
            if args.check:
                row["status"] = "ok" if err is None else str(err)
                if err is None:
                    row["settings"] = [_doc(d) for d in _settings_docs(registry, info)]
            out.append(row)
        print(json.dumps(out, indent=2))
    else:
        for info, err in rows:
            status = "" if not args.check else ("  ok" if err is None else f"  FAILED: {err}")
            print(f"{info.kind.label:16} {info.type_name:55} {info.origin}{status}")
    return 1 if failed else 0


def _settings_docs(registry: PluginRegistry, info: PluginInfo) -> list[SettingDoc]:
    cls = registry.load(info.kind, info.type_name)
    settings = getattr(cls, "Settings", None)
    return describe_settings(settings) if settings is not None else []


def _doc(doc: SettingDoc) -> dict[str, object]:
    return {k: getattr(doc, k) for k in ("key", "type", "default", "required", "help", "aliases")}


if __name__ == "__main__":
    raise SystemExit(main())
