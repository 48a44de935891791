"""``setting(deprecated=...)``: old spellings of a key are read, with a warning naming the new one."""

from __future__ import annotations

import attrs

from flume_sdk import describe_settings, setting
from flume_sdk.components.null_sink import NullSink

__all__: list[str] = []


@attrs.frozen(kw_only=True)
class _Renamed:
    batch_size: int = setting(default=100, deprecated=("batch-size", "batchsize"),
                              help="events per transaction")


class _RenamedSink(NullSink):
    Settings = _Renamed


def test_a_deprecated_key_is_read_with_a_warning_naming_the_new_key() -> None:
    sink = _RenamedSink.from_config("k1", {"batch-size": "7"}, component="a1.sinks.k1")
    assert sink.settings.batch_size == 7
    assert [(w.key, w.message, w.severity) for w in sink.config_warnings] == [
        ("batch-size", "deprecated key read as batchSize; rename it", "warning")]


def test_the_new_key_wins_over_a_deprecated_one_which_is_reported() -> None:
    sink = _RenamedSink.from_config("k1", {"batchSize": "5", "batchsize": "9"})
    assert sink.settings.batch_size == 5
    assert [w.message for w in sink.config_warnings] == [
        "deprecated key ignored because batchSize is set too; remove it"]


def test_plugins_check_documents_deprecated_keys() -> None:
    (doc,) = describe_settings(_Renamed)
    assert doc.deprecated == ("batch-size", "batchsize")
