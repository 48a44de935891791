"""flume-kafka: Kafka source, sink and channel for flume-sdk, on librdkafka
(``confluent-kafka``) or kafka-python (``kafka.client``).

Type alias ``kafka`` for all three, plus Flume's class names
(``org.apache.flume.source.kafka.KafkaSource``, ...). Offsets are committed only
after the channel commit; the sink and the channel's puts commit only after the
broker acknowledged the whole batch.
"""

from flume_kafka._channel import KafkaChannel, KafkaChannelSettings, KafkaTransaction
from flume_kafka._clients import CLIENTS, ClientConfig, client_config, default_client
from flume_kafka._format import (
    AVRO_FLUME_EVENT_SCHEMA,
    decode_avro_event,
    encode_avro_event,
)
from flume_kafka._sink import KafkaSink, KafkaSinkSettings
from flume_kafka._source import KafkaSource, KafkaSourceSettings

__all__ = [
    "AVRO_FLUME_EVENT_SCHEMA",
    "CLIENTS",
    "ClientConfig",
    "KafkaChannel",
    "KafkaChannelSettings",
    "KafkaSink",
    "KafkaSinkSettings",
    "KafkaSource",
    "KafkaSourceSettings",
    "KafkaTransaction",
    "client_config",
    "decode_avro_event",
    "default_client",
    "encode_avro_event",
]
