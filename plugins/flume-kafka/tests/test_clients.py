"""The client layer: Flume's SASL JAAS line on both libraries, and a batch the broker refuses
in part is failed as a whole on both."""

from __future__ import annotations

import pytest
from flume_kafka import CLIENTS, KafkaSink, client_config
from flume_testkit.drivers import SinkDriver
from flume_testkit.servers.kafka import KafkaBroker

from flume_sdk import ConfigurationError, Event

from .conftest import FAST_PRODUCER, read_topic, unique

_SERVERS = {"kafka.bootstrap.servers": "127.0.0.1:9"}
_PLAIN = ('org.apache.kafka.common.security.plain.PlainLoginModule required '
          'username="alice" password="s3cr\\"et";')
_SCRAM = ("org.apache.kafka.common.security.scram.ScramLoginModule required\n"
          '    username="bob" password="hunter2";')

_SASL_NAMES = {"confluent": ("sasl.mechanisms", "sasl.username", "sasl.password"),
               "kafka-python": ("sasl_mechanism", "sasl_plain_username", "sasl_plain_password")}


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize(("jaas", "mechanism", "login"), [
    (_PLAIN, None, ("PLAIN", "alice", 's3cr"et')),
    (_SCRAM, "SCRAM-SHA-512", ("SCRAM-SHA-512", "bob", "hunter2")),
])
def test_sasl_jaas_config_becomes_each_librarys_mechanism_and_credentials(
    client: str, jaas: str, mechanism: str | None, login: tuple[str, str, str],
) -> None:
    raw = {"sasl.jaas.config": jaas, "security.protocol": "SASL_PLAINTEXT"}
    if mechanism:
        raw["sasl.mechanism"] = mechanism
    options = client_config(client, "producer", raw, "127.0.0.1:9").options
    assert tuple(options[name] for name in _SASL_NAMES[client]) == login


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize(("jaas", "extra", "complaint"), [
    ('org.apache.kafka.common.security.plain.PlainLoginModule required username="u" '
     'password="topsecret" junk;', {}, "key=\"value\" options"),
    ("org.apache.kafka.common.security.scram.ScramLoginModule required username=u "
     "password=topsecret;", {}, "SCRAM-SHA-256 or SCRAM-SHA-512"),
    ("com.sun.security.auth.module.Krb5LoginModule required keyTab=topsecret;", {},
     "is not supported"),
    ('org.apache.kafka.common.security.plain.PlainLoginModule required password="topsecret";',
     {}, "lack username"),
])
def test_a_bad_jaas_line_is_a_configuration_error_that_never_shows_the_secret(
    client: str, jaas: str, extra: dict[str, str], complaint: str,
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        KafkaSink.from_config("k1", {**_SERVERS, "kafka.client": client,
                                     "kafka.producer.sasl.jaas.config": jaas, **extra})
    text = str(caught.value)
    assert "k1.kafka.producer.sasl.jaas.config" in text and complaint in text
    assert "topsecret" not in text


def test_a_password_librdkafka_refuses_is_not_echoed() -> None:
    with pytest.raises(ConfigurationError) as caught:
        KafkaSink.from_config("k1", {**_SERVERS, "kafka.client": "confluent",
                                     "kafka.producer.ssl.key.password": "topsecret",
                                     "kafka.producer.sasl.kerberos.min.time.before.relogin":
                                         "topsecret"})
    assert "topsecret" not in str(caught.value)


def test_a_batch_with_one_record_the_broker_refuses_fails_whole_and_stays_in_the_channel(
    kafka_broker: KafkaBroker,
) -> None:
    """A record for a partition the topic lacks is refused in its delivery report; the
    others were written, but the take must not commit (it is retried as a whole)."""
    topic = unique("refused")
    kafka_broker.create_topic(topic, 1)
    sink = KafkaSink.from_config("k1", {**_SERVERS, **FAST_PRODUCER,
                                        "kafka.bootstrap.servers": kafka_broker.bootstrap_servers,
                                        "kafka.topic": topic, "partitionIdHeader": "p",
                                        "kafka.producer.delivery.timeout.ms": "1500",
                                        "kafka.producer.max.block.ms": "1500"})
    events = [Event(b"a", {}), Event(b"b", {"p": "7"}), Event(b"c", {})]
    with SinkDriver(sink) as driver:
        driver.start()
        driver.feed(events)
        driver.process()
        assert driver.errors, "the batch must fail"
        assert driver.channel.size == len(events)
        assert driver.counters.get("RollbackCount") == 1
    assert {e.body for e in read_topic(kafka_broker, topic)} <= {b"a", b"c"}
