"""The generated JSON Schemas are valid schemas, accept real messages and reject broken ones, and agree with
the marshmallow schemas the services validate with."""
import copy
import json

import jsonschema
import pytest
from marshmallow import ValidationError

from contracts import generate
from contracts.envelope import EnvelopeSchema, make_envelope
from contracts.registry import EVENT_TYPES, event_type

SCHEMA_FILES = sorted(generate.JSONSCHEMA_DIR.glob("*.json"))
TYPES = [pytest.param(e, id=e.routing_key) for e in EVENT_TYPES]


def load(name: str) -> dict:
    return json.loads((generate.JSONSCHEMA_DIR / name).read_text(encoding="utf-8"))


def validator(spec) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(load(f"{spec.routing_key}.json"))


def marshmallow_accepts(spec, message: dict) -> bool:
    try:
        EnvelopeSchema().load(message)
        spec.schema().load(message["data"])
    except ValidationError:
        return False
    return message["type"] == spec.type and message["version"] == spec.version


def records_stored_message() -> dict:
    record = {"student_id": "2023010101", "semester": "2024-2025-1", "course_code": "MATH1001",
              "course_name": "高等数学A(一)", "credits": 5.0, "course_type": "required", "exam_type": "regular",
              "score": "55", "teacher": "T0042", "offering_college": "", "change": "new",
              "previous_score": None}
    corrected = dict(record, course_code="PHYS1001", course_name="大学物理", credits=3.5, score="缺考",
                     change="corrected", previous_score="")
    return make_envelope("grades.records_stored", 1, "grades",
                         {"upload_id": "upl-1", "batch": 1, "records": [record, corrected]},
                         correlation_id="upl-1", causation_id=None)


def warnings_changed_message() -> dict:
    change = {"change_id": "chg-1", "student_id": "2023010101", "semester": "2024-2025-1", "kind": "issued",
              "old_level": "none", "new_level": "yellow", "escalated": False, "policy_version": "2024.1",
              "reasons": [{"rule": "semester_failed_credits", "level": "yellow", "measure": 8.5,
                           "threshold": 8, "comparison": ">=",
                           "courses": [{"course_code": "MATH1001", "course_name": "高等数学A(一)",
                                        "credits": 5, "result": "55"}]}]}
    return make_envelope("warnings.changed", 1, "warnings", {"changes": [change]},
                         correlation_id="upl-1", causation_id="3f1c2a9e-6b1d-4c55-9a53-0c2f3d5e8a01")


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_each_generated_file_is_a_valid_json_schema(path):
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema["$schema"] == generate.DIALECT
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft7Validator
    cls.check_schema(schema)


def test_envelope_schema_describes_every_envelope_field():
    schema = load("envelope.json")
    fields = EnvelopeSchema().fields
    assert set(schema["properties"]) == set(fields)
    assert sorted(schema["required"]) == sorted(n for n, f in fields.items() if f.required)
    assert all(p.get("description") for p in schema["properties"].values())
    assert schema["properties"]["causation_id"]["type"] == ["string", "null"]


@pytest.mark.parametrize("spec", TYPES)
def test_per_type_schema_is_the_whole_message(spec):
    schema = load(f"{spec.routing_key}.json")
    props = schema["properties"]
    assert set(props) == set(EnvelopeSchema().fields)
    assert props["type"]["const"] == spec.type
    assert props["version"]["const"] == spec.version
    assert set(props["data"]["properties"]) == set(spec.schema().fields)
    assert "data" in schema["required"]
    assert props["data"]["additionalProperties"] is False
    assert spec.producer in schema["description"]


def test_field_metadata_enums_and_nullables_are_carried_over():
    data = load("grades.records_stored.v1.json")["properties"]["data"]
    record = data["properties"]["records"]["items"]
    assert record["properties"]["semester"]["description"] == "YYYY-YYYY-T"
    assert record["properties"]["exam_type"]["enum"] == ["regular", "makeup", "retake", "deferred"]
    assert record["properties"]["change"]["enum"] == ["new", "corrected"]
    assert record["properties"]["previous_score"]["type"] == ["string", "null"]
    assert "previous_score" not in record["required"]
    assert "student_id" in record["required"]
    assert data["description"].startswith("A batch of new or corrected grade records.")
    flag = load("assessment.course_flags_changed.v1.json")["properties"]["data"]["properties"]["flags"]["items"]
    assert flag["properties"]["previous_rate"]["type"] == ["number", "null"]
    assert "previous_rate" in flag["required"]


@pytest.mark.parametrize("message", [records_stored_message(), warnings_changed_message()],
                         ids=["grades.records_stored", "warnings.changed"])
def test_a_realistic_message_validates(message):
    spec = event_type(message["type"])
    validator(spec).validate(message)
    jsonschema.Draft7Validator(load("envelope.json")).validate(message)
    assert marshmallow_accepts(spec, message)


@pytest.mark.parametrize("spec", TYPES)
def test_the_generated_example_of_every_type_validates_in_both_worlds(spec):
    message = generate.example_message(spec)
    validator(spec).validate(message)
    assert marshmallow_accepts(spec, message)


def _break(message, how):
    broken = copy.deepcopy(message)
    how(broken)
    return broken


INVALID_RECORDS_STORED = {
    "missing envelope field": lambda m: m.pop("correlation_id"),
    "missing data field": lambda m: m["data"].pop("upload_id"),
    "missing nested field": lambda m: m["data"]["records"][0].pop("student_id"),
    "bad exam_type enum": lambda m: m["data"]["records"][0].update(exam_type="final"),
    "bad change enum": lambda m: m["data"]["records"][1].update(change="deleted"),
    "credits not a number": lambda m: m["data"]["records"][0].update(credits="five"),
    "null where not nullable": lambda m: m["data"]["records"][0].update(score=None),
    "unknown data field": lambda m: m["data"].update(extra=1),
    "unknown envelope field": lambda m: m.update(priority="high"),
    "another type's name": lambda m: m.update(type="grades.upload_completed"),
    "another version": lambda m: m.update(version=2),
}


@pytest.mark.parametrize("how", list(INVALID_RECORDS_STORED.values()), ids=list(INVALID_RECORDS_STORED))
def test_an_invalid_message_fails_and_marshmallow_agrees(how):
    spec = event_type("grades.records_stored")
    broken = _break(records_stored_message(), how)
    assert not validator(spec).is_valid(broken)
    assert not marshmallow_accepts(spec, broken)


def test_bad_warning_level_fails():
    spec = event_type("warnings.changed")
    broken = _break(warnings_changed_message(), lambda m: m["data"]["changes"][0].update(new_level="purple"))
    errors = list(validator(spec).iter_errors(broken))
    assert errors and any("purple" in e.message for e in errors)
    assert not marshmallow_accepts(spec, broken)


@pytest.mark.parametrize("spec", TYPES)
def test_dropping_any_required_data_field_fails(spec):
    message = generate.example_message(spec)
    for name, field in spec.schema().fields.items():
        if field.required:
            broken = _break(message, lambda m: m["data"].pop(name))
            assert not validator(spec).is_valid(broken), name
            assert not marshmallow_accepts(spec, broken), name
