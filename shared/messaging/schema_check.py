"""Checking a message against its marshmallow schema quickly, without checking less.

Every consumer validates every message in full (the trust boundary), and marshmallow takes 15-40 ms for a batch of
1,000 grade records: it builds a result and an error dictionary per field per record. Three services validate
every batch, so in the 100,000-row cascade that was a third of their CPU time (benchmarks/README.md).

``errors_of(schema_class, data)`` first runs a check compiled from the schema that is STRICTER than marshmallow:
exact types (a str for String, an int for Integer, an int or finite float for Float, a bool for Boolean, a list, a
dict), the field's own validators, required keys, unknown keys as the schema's ``unknown`` says. Data it passes
marshmallow would pass too; data it does not pass — invalid, or valid only by a conversion (``"3"`` for an
Integer) — goes to marshmallow, whose verdict and messages are the answer. Fields of kinds the compiler does not
know are checked by the field's own ``deserialize``, and a schema with hooks (``@validates``, ``@pre_load``…) is
left to marshmallow whole. tests/unit/messaging/test_schema_check.py holds the invariant on every event type.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Callable

from marshmallow import EXCLUDE, INCLUDE, Schema, ValidationError, fields, missing, validate

Check = Callable[[Any], bool]


def errors_of(schema_class: type[Schema], data: Any) -> dict:
    """marshmallow's ``schema_class().validate(data)``: ``{}`` when valid, else its error messages."""
    schema, check = _compiled(schema_class)
    if check is not None and check(data):
        return {}
    return schema.validate(data)


@lru_cache(maxsize=None)
def _compiled(schema_class: type[Schema]) -> tuple[Schema, Check | None]:
    schema = schema_class()
    return schema, compile_schema(schema)


def compile_schema(schema: Schema, unknown: str | None = None) -> Check | None:
    """A strict check of one mapping against ``schema``, or None when the schema has hooks (marshmallow only).

    The check is generated as Python source, one block per field with the type test and membership validators
    inlined: calling a small function per field per record was most of its time (1,000 records of 12 fields each
    per grades batch)."""
    if any(schema._hooks.values()):
        return None
    unknown = unknown or schema.unknown
    names: dict[str, Any] = {"_missing": missing, "_isfinite": math.isfinite}
    lines = ["def check(data):",
             "    if data.__class__ is not dict:",
             "        return False"]
    keys = []
    for number, (name, field) in enumerate(schema.load_fields.items()):
        key = field.data_key if field.data_key is not None else name
        keys.append(key)
        lines += _field_block(field, key, number, names)
    if unknown not in (EXCLUDE, INCLUDE):
        names["_allowed"] = frozenset(keys)
        lines[3:3] = ["    if not _allowed.issuperset(data):", "        return False"]
    lines.append("    return True")
    exec(compile("\n".join(lines), f"<check of {type(schema).__name__}>", "exec"), names)
    return names["check"]


def _field_block(field: fields.Field, key: str, number: int, names: dict) -> list[str]:
    """Source lines checking ``data[key]``: missing (an error when required), None (allowed or not), or a value of
    the field's exact type passing its validators."""
    test = _value_test(field, number, names)
    return [f"    v = data.get({key!r}, _missing)",
            "    if v is _missing:",
            "        " + ("return False" if field.required else "pass"),
            "    elif v is None:",                  # marshmallow runs no validator on an allowed None
            "        " + ("pass" if field.allow_none else "return False"),
            f"    elif not ({test}):",
            "        return False"]


_HASHABLE_TESTS = {fields.String: "v.__class__ is str", fields.Integer: "v.__class__ is int",
                   fields.Boolean: "v.__class__ is bool"}


def _value_test(field: fields.Field, number: int, names: dict) -> str:
    """A Python expression over ``v`` (not None) that is true when the value certainly passes marshmallow."""
    kind = type(field)
    if kind in _HASHABLE_TESTS:
        tests = [_HASHABLE_TESTS[kind]]
        for index, validator in enumerate(field.validators):
            choices = _hashable_choices(validator)
            if choices is not None:           # v is a str, int or bool here: `in` cannot raise
                names[f"_choices{number}_{index}"] = choices
                tests.append(f"v in _choices{number}_{index}")
            else:
                names[f"_validator{number}_{index}"] = _validator_check(validator)
                tests.append(f"_validator{number}_{index}(v)")
        return " and ".join(tests)
    names[f"_field{number}"] = _field_check(field)
    return f"_field{number}(v)"


def _hashable_choices(validator) -> frozenset | None:
    if not isinstance(validator, validate.OneOf):
        return None
    try:
        return frozenset(validator.choices)
    except TypeError:
        return None


def _field_check(field: fields.Field) -> Check:
    kind = type(field)
    valid_type: Check | None = None
    if kind is fields.String:
        valid_type = _is_str
    elif kind is fields.Integer:
        valid_type = _is_int
    elif kind is fields.Float:
        valid_type = _finite_number if not field.allow_nan else _is_number
    elif kind is fields.Boolean:
        valid_type = _is_bool
    elif kind is fields.Raw:
        valid_type = _anything
    elif kind is fields.Dict and field.key_field is None and field.value_field is None:
        valid_type = _is_dict
    elif kind is fields.List and not field.validators:       # validators see the loaded list: marshmallow's
        valid_type = _list_of(_field_check(field.inner))
    elif kind is fields.Nested and not field.many and not field.validators:
        nested = compile_schema(field.schema, unknown=field.unknown)
        valid_type = nested if nested is not None else None
    if valid_type is None:
        return _by_marshmallow(field)
    validators = [_validator_check(v) for v in field.validators]
    allow_none = field.allow_none

    def check(value) -> bool:
        if value is None:
            return allow_none          # marshmallow runs no validator on an allowed None
        if not valid_type(value):
            return False
        for validator in validators:
            if not validator(value):
                return False
        return True

    return check


def _by_marshmallow(field: fields.Field) -> Check:
    def check(value) -> bool:
        try:
            field.deserialize(value)
        except ValidationError:
            return False
        return True
    return check


def _validator_check(validator) -> Check:
    if isinstance(validator, validate.OneOf):
        try:
            choices = frozenset(validator.choices)
        except TypeError:
            choices = None
        if choices is not None:
            def one_of(value) -> bool:
                try:
                    return value in choices
                except TypeError:      # an unhashable value: let marshmallow judge it
                    return False
            return one_of

    def call(value) -> bool:
        try:
            result = validator(value)
        except ValidationError:
            return False
        return not (result is False and not isinstance(validator, validate.Validator))

    return call


def _list_of(item: Check) -> Check:
    def check(value) -> bool:
        if value.__class__ is not list:
            return False
        for each in value:
            if not item(each):
                return False
        return True
    return check


def _is_str(value) -> bool:
    return value.__class__ is str


def _is_int(value) -> bool:
    return value.__class__ is int


def _is_bool(value) -> bool:
    return value.__class__ is bool


def _is_dict(value) -> bool:
    return value.__class__ is dict


def _anything(value) -> bool:
    return True


def _is_number(value) -> bool:
    if value.__class__ is float:
        return True
    if value.__class__ is int:
        return abs(value) < 1e300       # float() of a larger int overflows: marshmallow says "too large"
    return False


def _finite_number(value) -> bool:
    if value.__class__ is float:
        return math.isfinite(value)
    return _is_number(value)
