"""The Java Avro peer really speaks Flume's protocol: Java client to Java server.

Run with ``-p flume_testkit.servers.avro_peer`` (the fixture is not autouse).
"""

from __future__ import annotations

from flume_testkit.servers.avro_peer import FLUME_PROTOCOL_MD5, AvroJavaPeer

__all__: list[str] = []


def test_protocol_md5_matches_flumes_generated_protocol(avro_java_peer: AvroJavaPeer) -> None:
    assert avro_java_peer.protocol_md5() == FLUME_PROTOCOL_MD5


def test_append_batch_round_trip_delivers_every_event_in_order(
    avro_java_peer: AvroJavaPeer,
) -> None:
    with avro_java_peer.start_server() as server:
        result = avro_java_peer.run_client("127.0.0.1", server.port, 25, 10)
        events = server.events()

    assert result.ok, result.output
    assert result.statuses == ["OK", "OK", "OK"]
    assert [e.body for e in events] == [f"event-{i}".encode() for i in range(25)]
    assert {e.op for e in events} == {"appendBatch"}
    assert events[3].headers == {"seq": "3"}


def test_batch_of_one_uses_append(avro_java_peer: AvroJavaPeer) -> None:
    with avro_java_peer.start_server() as server:
        result = avro_java_peer.run_client("127.0.0.1", server.port, 2, 1, body_size=16)
        events = server.events()

    assert result.statuses == ["OK", "OK"]
    assert [e.op for e in events] == ["append", "append"]
    assert events[0].body == b"event-0" + b"x" * 9


def test_deflate_round_trip_delivers_every_event(avro_java_peer: AvroJavaPeer) -> None:
    with avro_java_peer.start_server(deflate=True) as server:
        result = avro_java_peer.run_client("127.0.0.1", server.port, 300, 100, deflate=True,
                                           body_size=200)
        events = server.events()

    assert result.ok, result.output
    assert result.summary["delivered"] == 300
    assert len(events) == 300
    assert events[-1].body.startswith(b"event-299x")


def test_failed_mode_answers_failed_status_and_client_exits_1(
    avro_java_peer: AvroJavaPeer,
) -> None:
    with avro_java_peer.start_server(mode="failed") as server:
        result = avro_java_peer.run_client("127.0.0.1", server.port, 20, 10)

    assert result.exit_code == 1
    assert result.statuses == ["FAILED", "FAILED"]
    assert result.summary["delivered"] == 0


def test_client_against_closed_port_reports_an_error(avro_java_peer: AvroJavaPeer) -> None:
    server = avro_java_peer.start_server()
    port = server.port
    server.stop()

    result = avro_java_peer.run_client("127.0.0.1", port, 1, 1, timeout=5)

    assert result.exit_code == 2
    assert result.error is not None


def test_slow_server_makes_client_call_time_out(avro_java_peer: AvroJavaPeer) -> None:
    with avro_java_peer.start_server(delay_ms=3000) as server:
        result = avro_java_peer.run_client("127.0.0.1", server.port, 1, 1, timeout=0.5)

    assert result.exit_code == 2
    assert result.error is not None and "Timeout" in result.error
