"""What ``flume-ng top`` computes from two samples: rates, totals, fill, errors, health."""

from __future__ import annotations

from flume_tools.sampling import AgentSample, rows_between


def test_rates_are_counter_differences_per_second_and_health_marks_failing_components() -> None:
    before = AgentSample("http://h:1", 10.0, {
        "SINK.k1": {"EventDrainAttemptCount": "100", "EventDrainSuccessCount": "90", "EventWriteFail": "1"},
        "CHANNEL.c1": {"EventPutSuccessCount": "100", "EventTakeSuccessCount": "90", "ChannelSize": "10",
                       "ChannelCapacity": "100", "ChannelFillPercentage": "10.0"},
    })
    after = AgentSample("http://h:1", 12.0, {
        "SINK.k1": {"EventDrainAttemptCount": "140", "EventDrainSuccessCount": "110", "EventWriteFail": "5"},
        "CHANNEL.c1": {"EventPutSuccessCount": "160", "EventTakeSuccessCount": "110", "ChannelSize": "50",
                       "ChannelCapacity": "100", "ChannelFillPercentage": "50.0"},
    }, health={"status": "failing", "failing": {"SINK.k1": "connection refused"}})
    sink, channel = rows_between(before, after)
    assert (sink.agent, sink.rate_in, sink.rate_out, sink.total) == ("h:1", 20.0, 10.0, 110)
    assert (sink.errors, sink.error_rate) == (5, 2.0)
    assert sink.health == "FAILING: connection refused"
    assert (channel.rate_in, channel.rate_out, channel.fill, channel.size) == (30.0, 10.0, 50.0, "50/100")
    assert channel.health == "ok"


def test_an_unreachable_agent_is_one_row_saying_why() -> None:
    down = AgentSample("http://h:2", 1.0, error="connection refused")
    (row,) = rows_between(down, down)
    assert row.health == "unreachable: connection refused"
