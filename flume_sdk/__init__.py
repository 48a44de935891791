"""flume-sdk: Apache Flume's event, transaction and plugin model in Python.

Plugins import only the names listed in ``__all__``.
"""

from flume_sdk._channel import Channel
from flume_sdk._channel_processor import ChannelProcessor
from flume_sdk._clock import SYSTEM_CLOCK, Clock, SystemClock
from flume_sdk._configurable import Configurable
from flume_sdk._counters import Counter
from flume_sdk._durable_files import fsync_directory, write_atomically
from flume_sdk._errors import (
    ChannelException,
    ChannelFullException,
    ConfigurationError,
    DeliveryFailedError,
    EventDeliveryException,
    FlumeError,
    FrameTooLargeError,
    Location,
    PluginConflictError,
    PluginError,
    PluginInvalidError,
    PluginLoadError,
    PluginNotFoundError,
    Problem,
    ProtocolMismatchError,
    RpcError,
    TransactionStateError,
)
from flume_sdk._escapes import EscapeError, EscapeTemplate, MissingTimestampError, escape_string
from flume_sdk._event import Event
from flume_sdk._failure_log import FailureLog, describe_error
from flume_sdk._health import HealthChecks, HealthCondition
from flume_sdk._hooks import hookimpl
from flume_sdk._interceptor import Interceptor
from flume_sdk._lifecycle import Component, LifecycleState, NoSettings
from flume_sdk._log_limit import (
    TRANSIENT_ACCEPT_ERRNOS,
    AcceptBackoff,
    RateLimitedLog,
    limit_asyncio_errors,
)
from flume_sdk._metrics_client import MetricsDocument, fetch_health, fetch_metrics
from flume_sdk._plugins import PluginInfo, PluginKind, PluginRegistry, load_plugin
from flume_sdk._preflight import (
    bind_problems,
    preflight,
    readable_dir,
    readable_file,
    writable_dir,
    writable_parent,
)
from flume_sdk._rpc import RpcServer, RpcSinkSettings, RpcSource
from flume_sdk._runners import SinkRunner, SourceRunner
from flume_sdk._selector import ChannelSelector, Routing
from flume_sdk._serializer import EventSerializer
from flume_sdk._serializer_lookup import SerializerFactory, resolve_serializer
from flume_sdk._settings import (
    SettingDoc,
    at_least,
    describe_settings,
    in_range,
    namespace,
    one_of,
    parse_settings,
    parse_settings_and_warnings,
    setting,
    settings_preflight,
    settings_warnings,
    to_bool,
)
from flume_sdk._sink import BatchSink, Sink
from flume_sdk._sink_processor import SinkProcessor
from flume_sdk._source import (
    Delivery,
    EventDrivenSource,
    PollableSource,
    PollableSourceSettings,
    Source,
    Status,
)
from flume_sdk._tls import TlsClientSettings, TlsDefaults, TlsServerSettings
from flume_sdk._transaction import Transaction, TransactionState

__version__ = "0.1.0"

__all__ = [
    "SYSTEM_CLOCK",
    "TRANSIENT_ACCEPT_ERRNOS",
    "AcceptBackoff",
    "BatchSink",
    "Channel",
    "ChannelException",
    "ChannelFullException",
    "ChannelProcessor",
    "ChannelSelector",
    "Clock",
    "Component",
    "Configurable",
    "ConfigurationError",
    "Counter",
    "Delivery",
    "DeliveryFailedError",
    "EscapeError",
    "EscapeTemplate",
    "Event",
    "EventDeliveryException",
    "EventDrivenSource",
    "EventSerializer",
    "FailureLog",
    "FlumeError",
    "FrameTooLargeError",
    "HealthChecks",
    "HealthCondition",
    "Interceptor",
    "LifecycleState",
    "Location",
    "MetricsDocument",
    "MissingTimestampError",
    "NoSettings",
    "PluginConflictError",
    "PluginError",
    "PluginInfo",
    "PluginInvalidError",
    "PluginKind",
    "PluginLoadError",
    "PluginNotFoundError",
    "PluginRegistry",
    "PollableSource",
    "PollableSourceSettings",
    "Problem",
    "ProtocolMismatchError",
    "RateLimitedLog",
    "Routing",
    "RpcError",
    "RpcServer",
    "RpcSinkSettings",
    "RpcSource",
    "SerializerFactory",
    "SettingDoc",
    "Sink",
    "SinkProcessor",
    "SinkRunner",
    "Source",
    "SourceRunner",
    "Status",
    "SystemClock",
    "TlsClientSettings",
    "TlsDefaults",
    "TlsServerSettings",
    "Transaction",
    "TransactionState",
    "TransactionStateError",
    "__version__",
    "at_least",
    "bind_problems",
    "describe_error",
    "describe_settings",
    "escape_string",
    "fetch_health",
    "fetch_metrics",
    "fsync_directory",
    "hookimpl",
    "in_range",
    "limit_asyncio_errors",
    "load_plugin",
    "namespace",
    "one_of",
    "parse_settings",
    "parse_settings_and_warnings",
    "preflight",
    "readable_dir",
    "readable_file",
    "resolve_serializer",
    "setting",
    "settings_preflight",
    "settings_warnings",
    "to_bool",
    "writable_dir",
    "writable_parent",
    "write_atomically",
]
