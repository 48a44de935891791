"""flume-kafka: Kafka source, sink and channel for flume-sdk, on kafka-python.

Type alias ``kafka`` for all three, plus Flume's class names
(``org.apache.flume.source.kafka.KafkaSource``, ...). Offsets are committed only
after the channel commit; the sink and the channel's puts commit only after the
broker acknowledged the whole batch.
"""

from flume_kafka._channel import KafkaChannel, KafkaChannelSettings, KafkaTransaction
from flume_kafka._clients import client_options
from flume_kafka._format import (
    AVRO_FLUME_EVENT_SCHEMA,
    decode_avro_event,
    encode_avro_event,
)
from flume_kafka._sink import KafkaSink, KafkaSinkSettings
from flume_kafka._source import KafkaSource, KafkaSourceSettings

__all__ = [
    "AVRO_FLUME_EVENT_SCHEMA",
    "KafkaChannel",
    "KafkaChannelSettings",
    "KafkaSink",
    "KafkaSinkSettings",
    "KafkaSource",
    "KafkaSourceSettings",
    "KafkaTransaction",
    "client_options",
    "decode_avro_event",
    "encode_avro_event",
]
