"""``flume-ng``: run an agent, validate a configuration, list plugins.

Subcommands provided by plugin distributions (``avro-client``, ``channel``)
are found in the ``flume_sdk.cli`` entry-point group: the name is the
subcommand, the value a ``main(argv) -> int`` function.
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata as md
import importlib.util
import logging
import re
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from flume_sdk import __version__
from flume_sdk._agent import Agent, load_config
from flume_sdk._config import agent_names, file_problems
from flume_sdk._errors import ConfigurationError, Problem
from flume_sdk._ganglia import GangliaReporter
from flume_sdk._gc_tuning import DEFAULT_GC_THRESHOLD, tune_garbage_collector
from flume_sdk._health_report import HealthPolicy
from flume_sdk._log_format import LOG_FORMATS, LOG_LEVELS, configure_logging, level_from
from flume_sdk._monitoring import MonitoringServer
from flume_sdk._new_plugin import KINDS, new_plugin
from flume_sdk._plugin_listing import plugins_command
from flume_sdk._preflight import build_checked, sorted_problems
from flume_sdk._properties import read_properties
from flume_sdk._tls import TlsDefaults, using_tls_defaults

__all__ = ["main"]

log = logging.getLogger("flume_sdk.cli")


_EXAMPLES = {
    "agent": "flume-ng agent -n a1 -c conf -f flume.conf -Dflume.monitoring.type=http "
             "-Dflume.monitoring.host=127.0.0.1 -Dflume.monitoring.port=41414 --log-format json",
    "validate": "flume-ng validate -c conf -f flume.conf -f overrides.conf -n a1",
    "plugins": "flume-ng plugins --check",
    "version": "flume-ng version",
    "new-plugin": "flume-ng new-plugin sink mything -d plugins",
}


def _command(sub: argparse._SubParsersAction, name: str,  # type: ignore[type-arg]
             help: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help, description=help[:1].upper() + help[1:] + ".",
        epilog=f"example:\n  {_EXAMPLES[name]}", formatter_class=argparse.RawDescriptionHelpFormatter)
    return parser


def _describe(ep: md.EntryPoint) -> str:
    """The first line of a plugin command's module docstring, read without importing it."""
    try:
        spec = importlib.util.find_spec(ep.module)
        origin = spec.origin if spec else None
        doc = ast.get_docstring(ast.parse(Path(origin).read_text())) if origin else None
    except (ImportError, OSError, SyntaxError, ValueError):
        doc = None
    first = (doc or "").strip().splitlines()[0] if doc else ""
    first = re.sub(r"^``flume-ng [^`]*``:?\s*", "", first).rstrip(".")
    first = first[:1].lower() + first[1:]
    dist = getattr(ep, "dist", None)
    source = f" (from {dist.metadata['Name']})" if dist is not None else ""
    return (first or f"the {ep.name} command") + source


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flume-ng", description="flume-sdk: run Flume agents, check their configuration, "
        "list plugins. 'flume-ng COMMAND --help' shows each command's options and an example.")
    parser.add_argument("--version", action="version", version=f"flume-sdk {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    agent = _command(sub, "agent", "run an agent")
    agent.add_argument("-n", "--name", required=True, help="the agent name in the config")
    _config_options(agent)
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
    validate = _command(sub, "validate", "check a configuration as the agent would before it "
                        "starts (paths, ports, variables); exit 1 on any error")
    validate.add_argument("-n", "--name", help="only this agent (default: every agent)")
    _config_options(validate)
    _defines_option(validate)
    plugins = _command(sub, "plugins", "list installed component types, one row per component")
    plugins.add_argument("--check", action="store_true",
                         help="import each and document its settings")
    plugins.add_argument("--json", action="store_true", help="machine-readable output")
    _command(sub, "version", "print the version")
    new = _command(sub, "new-plugin", "write a working plugin distribution with its "
                   "contract test")
    new.add_argument("kind", choices=KINDS, help="what the plugin provides")
    new.add_argument("name", help="its type alias in flume.conf (lower case, e.g. mything)")
    new.add_argument("-d", "--directory", type=Path, default=Path(),
                     help="where to create flume-<kind>-<name>/ (default: here)")
    for ep in md.entry_points(group="flume_sdk.cli"):
        extra = sub.add_parser(ep.name, help=_describe(ep), add_help=False)
        extra.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def _defines_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-D", dest="defines", action="append", default=[], metavar="KEY=VALUE",
                        help="system property, e.g. -Dflume.monitoring.type=http or "
                        "-Djavax.net.ssl.keyStore=/etc/flume/ks.pem")


def _config_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--conf-file", dest="files", action="append", required=True,
                        type=Path, help="properties file (repeatable; later keys win)")
    parser.add_argument("-c", "--conf", type=Path,
                        help="configuration directory (where a relative -f is looked up)")
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
    """Everything the agent checks before it starts, for every agent (or ``-n``), at once."""
    files = _resolve_files(args.files, args.conf)
    try:
        entries = [e for f in files for e in read_properties(f)]
    except ConfigurationError as exc:
        _print_problems("configuration", exc.problems)
        return 1
    defines = _defines(args.defines)
    general = file_problems(entries, files)
    failed = _print_problems("configuration", general) if general else False
    for name in [args.name] if args.name else agent_names(entries):
        config = load_config(files, name, system_properties=defines)
        with using_tls_defaults(TlsDefaults.resolve(defines)):
            pipeline = build_checked(config, lenient=True)
        errors = [p for p in pipeline.warnings if p.severity == "error"]
        if _print_problems(f"agent {name}", pipeline.warnings) and not args.lenient:
            failed = True
            continue
        dropped = f"; {len(errors)} error(s) dropped components (--lenient)" if errors else ""
        print(f"agent {name}: OK ({len(pipeline.sources)} sources, {len(pipeline.channels)} "
              f"channels, {len(pipeline.sinks)} sinks{dropped})")
    return 1 if failed else 0


def _print_problems(what: str, problems: list[Problem]) -> bool:
    """Print errors (sorted by file and line) then warnings; return whether any was an error."""
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        print(f"{what}: {len(errors)} error{'s' * (len(errors) != 1)}", file=sys.stderr)
    for problem in sorted_problems(errors):
        print(f"  {problem}", file=sys.stderr)
    for problem in sorted_problems([p for p in problems if p.severity != "error"]):
        print(f"  warning: {problem}", file=sys.stderr)
    return bool(errors)


def _plugins(args: argparse.Namespace) -> int:
    return plugins_command(args.check, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
