"""The compiled check never passes what marshmallow refuses, on every event type, and errors_of answers exactly what
marshmallow's validate answers (verdict and messages)."""
from __future__ import annotations

import copy

import pytest
from marshmallow import Schema, fields, validate, validates

from contracts.envelope import EnvelopeSchema
from contracts.generate import example_message
from contracts.registry import EVENT_TYPES
from shared.messaging.schema_check import compile_schema, errors_of

SCHEMAS = [(spec.type, spec.schema) for spec in EVENT_TYPES] + [("envelope", EnvelopeSchema)]
REPLACEMENTS = [None, "3", "text", 3, -1, 0, 3.5, float("nan"), float("inf"), True, False, [], [1], {}, {"x": 1},
                b"bytes", 10 ** 400, "new", "yellow", "regular", "required"]


def example_of(name: str) -> dict:
    if name == "envelope":
        return example_message(EVENT_TYPES[0])
    return example_message(next(s for s in EVENT_TYPES if s.type == name))["data"]


def paths(value, prefix=()):
    """Every place in a JSON-like value: (path to the container, key or index)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield prefix, key
            yield from paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield prefix, index
            yield from paths(item, prefix + (index,))


def at(value, path):
    for step in path:
        value = value[step]
    return value


def mutations(example: dict):
    yield example
    for container_path, key in list(paths(example)):
        for replacement in REPLACEMENTS:
            changed = copy.deepcopy(example)
            at(changed, container_path)[key] = replacement
            yield changed
        changed = copy.deepcopy(example)
        container = at(changed, container_path)
        if isinstance(container, dict):
            del container[key]
            yield changed
            changed = copy.deepcopy(example)
            at(changed, container_path)["unexpected"] = "x"
            yield changed
        else:
            container.append(copy.deepcopy(container[key]))
            yield changed
    yield []
    yield None
    yield "not an object"


@pytest.mark.parametrize("name,schema_class", SCHEMAS, ids=[n for n, _ in SCHEMAS])
def test_the_compiled_check_passes_nothing_marshmallow_refuses(name, schema_class):
    schema = schema_class()
    check = compile_schema(schema)
    example = example_of(name)
    assert schema.validate(example) == {}, "the contract's example must be valid"
    assert check is not None and check(example), f"{name}: valid data must take the fast path"
    tried = 0
    for data in mutations(example):
        expected = schema.validate(data)
        if check(data):
            assert expected == {}, f"{name}: the compiled check passed {data!r}, marshmallow says {expected}"
        assert errors_of(schema_class, data) == expected
        tried += 1
    assert tried > 20


def test_a_full_batch_of_grade_records_takes_the_fast_path_and_one_bad_record_is_found():
    spec = next(s for s in EVENT_TYPES if s.type == "grades.records_stored")
    data = example_message(spec)["data"]
    data["records"] = [dict(data["records"][0], student_id=str(i)) for i in range(1000)]
    assert compile_schema(spec.schema())(data)
    data["records"][777]["exam_type"] = "exam"          # not one of the exam types
    errors = errors_of(spec.schema, data)
    assert errors == {"records": {777: {"exam_type": ["Must be one of: regular, makeup, retake, deferred."]}}}


def test_values_marshmallow_converts_are_still_accepted_through_marshmallow():
    class Counted(Schema):
        count = fields.Integer(required=True)
        share = fields.Float(required=True)
        on = fields.Boolean(required=True)

    assert errors_of(Counted, {"count": "3", "share": "0.5", "on": "yes"}) == {}
    assert not compile_schema(Counted())({"count": "3", "share": "0.5", "on": "yes"})


def test_schemas_with_hooks_and_unknown_field_kinds_are_left_to_marshmallow():
    class Hooked(Schema):
        name = fields.String(required=True)

        @validates("name")
        def not_bob(self, value, **kwargs):
            if value == "bob":
                from marshmallow import ValidationError
                raise ValidationError("no bobs")

    assert compile_schema(Hooked()) is None
    assert errors_of(Hooked, {"name": "bob"}) == {"name": ["no bobs"]}

    class Mailed(Schema):
        mail = fields.Email(required=True)
        code = fields.String(validate=validate.Length(min=2, max=3))

    check = compile_schema(Mailed())
    assert check({"mail": "a@b.example", "code": "ab"})
    assert not check({"mail": "not a mail", "code": "ab"})
    assert not check({"mail": "a@b.example", "code": "abcd"})
    assert errors_of(Mailed, {"mail": "not a mail"}) == Mailed().validate({"mail": "not a mail"})
