"""orjson decodes the bus's JSON exactly as kombu's decoder did (shared/messaging/codec.py)."""
import json
import uuid
from datetime import datetime, timezone

from kombu import serialization
from kombu.utils import json as kombu_json

from shared.messaging import codec


def _batch(n=50):
    return {"id": str(uuid.uuid4()), "type": "grades.records_stored", "version": 1, "source": "grades",
            "correlation_id": "U-1", "causation_id": "U-1", "occurred_at": "2026-11-28T00:00:00+00:00",
            "data": {"upload_id": "U-1", "records": [
                {"student_id": f"2102090{i:02d}", "course_name": "高等数学 A（上）", "score": "58", "credits": 4.5,
                 "passed": i % 3 == 0, "note": None} for i in range(n)]}}


def test_decodes_what_the_standard_library_decodes():
    text = json.dumps(_batch(), ensure_ascii=False)
    for raw in (text, text.encode("utf-8"), bytearray(text.encode("utf-8")), memoryview(text.encode("utf-8"))):
        assert codec.loads(raw) == json.loads(text)


def test_kombu_type_markers_still_become_objects():
    # nameko RPC replies may carry datetimes that kombu's encoder wrote as {"__type__": ..., "__value__": ...}
    when = datetime(2026, 11, 28, 8, 30, tzinfo=timezone.utc)
    raw = kombu_json.dumps({"when": when, "n": 1}).encode("utf-8")
    assert b"__type__" in raw
    assert codec.loads(raw) == {"when": when, "n": 1}


def test_non_strict_json_falls_back_to_the_old_decoder():
    assert codec.loads(b'{"x": NaN}')["x"] != codec.loads(b'{"x": NaN}')["x"]     # NaN, as json.loads gives


def test_it_is_kombus_decoder_for_application_json():
    text = json.dumps(_batch(3))
    assert serialization.loads(text.encode(), "application/json", "utf-8") == json.loads(text)
    assert serialization.registry._decoders["application/json"] is codec.loads


def test_outbox_text_keeps_characters_and_round_trips():
    batch = _batch(2)
    text = codec.dumps_text(batch)
    assert "高等数学" in text and json.loads(text) == batch


def test_outbox_text_writes_non_string_keys_as_json_dumps_does():
    # SQLAlchemy's row mappings are keyed by a str subclass (quoted_name), which plain orjson refuses
    from sqlalchemy.sql.elements import quoted_name
    value = {"counts": {1: 2, None: 3, True: 4, "x": 5}, "row": {quoted_name("notice_id", None): "N-1"}}
    assert json.loads(codec.dumps_text(value)) == json.loads(json.dumps(value))
