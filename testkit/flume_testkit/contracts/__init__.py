"""Contract suites: base test classes a plugin's tests subclass, providing one factory fixture.

=======================  =====================  ==========================================
suite                    factory fixture        other hook fixtures
=======================  =====================  ==========================================
``ChannelContract``      ``make_channel``       (none)
``SourceContract``       ``make_source``        ``drive_source``; ``channel_processor_for``
``SinkContract``         ``make_sink``          ``delivered``, ``break_destination``,
                                                ``heal_destination``
``InterceptorContract``  ``make_interceptor``   ``interceptor_events``, ``bad_config``
``SerializerContract``   ``make_serializer``    ``read_events``, ``serializer_events``
=======================  =====================  ==========================================

Skip a check with ``skip_contract = {"test_name": "why it does not apply"}``.
"""

from flume_testkit.contracts._base import ContractBase, LifecycleChecks
from flume_testkit.contracts._channel import ChannelContract
from flume_testkit.contracts._interceptor import InterceptorContract
from flume_testkit.contracts._serializer import SerializerContract
from flume_testkit.contracts._sink import SinkContract
from flume_testkit.contracts._source import SourceContract

__all__ = [
    "ChannelContract",
    "ContractBase",
    "InterceptorContract",
    "LifecycleChecks",
    "SerializerContract",
    "SinkContract",
    "SourceContract",
]
