"""The forms that close a duty, derived from the advising service's record schemas
(services/advising/domain/records.py): a new kind of duty gets its form without a change here.

Each field of a record schema becomes an input by its type (a date, a count, a choice, a list of names, a line or
a text). A posted form is checked here first, so that the page can point at the field that is wrong in the reader's
language and keep what was typed; then the schema itself checks it (cross-field rules such as "the follow-up comes
after the talk"), and finally the service has the last word when the API is called."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from marshmallow import ValidationError, fields as mfields, validate

from services.advising.domain.records import RECORD_SCHEMAS, check_record

SHORT = 200


@dataclass(frozen=True)
class Field:
    name: str
    kind: str                 # date | line | text | int | choice | names
    required: bool = True
    choices: tuple[str, ...] = ()
    max_length: int = 4000


# Record fields the page copies from the task rather than asking: the counselor confirms the list version the
# task was issued for.
FILLED_BY_PAGE: dict[str, tuple[str, ...]] = {"counselor_list": ("list_id", "version")}
REVIEW_DECISIONS = ("approve", "return")


def _validator(field, kind):
    for v in ([field.validate] if callable(field.validate) else []) + list(field.validators or ()):
        if isinstance(v, kind):
            return v
    return None


def _field(name: str, field) -> Field:
    required = bool(field.required)
    if isinstance(field, mfields.Date):
        return Field(name, "date", required)
    if isinstance(field, mfields.Integer):
        return Field(name, "int", required)
    if isinstance(field, mfields.List):
        return Field(name, "names", required)
    one_of = _validator(field, validate.OneOf)
    if one_of is not None:
        return Field(name, "choice", required, tuple(one_of.choices))
    length = _validator(field, validate.Length)
    limit = length.max if length is not None and length.max else 4000
    return Field(name, "line" if limit <= SHORT else "text", required, max_length=limit)


def _forms() -> dict[str, tuple[Field, ...]]:
    found = {}
    for kind, schema in RECORD_SCHEMAS.items():
        skip = set(FILLED_BY_PAGE.get(kind, ()))
        found[kind] = tuple(_field(name, f) for name, f in schema().fields.items() if name not in skip)
    return found


RECORD_FORMS: dict[str, tuple[Field, ...]] = _forms()


def form_for(kind: str) -> tuple[Field, ...]:
    return RECORD_FORMS.get(kind, ())


def _names(raw: str) -> list[str]:
    """Names typed one per line or separated by commas (either width), 、 or semicolons."""
    for sep in ("，", "、", "\n", ";", "；"):
        raw = raw.replace(sep, ",")
    return [part.strip() for part in raw.split(",") if part.strip()]


def _read(field: Field, raw: str):
    """(value, error key): one field's text as the record's value."""
    if len(raw) > field.max_length:
        return None, "error.too_long"
    if field.kind == "date":
        try:
            return date.fromisoformat(raw).isoformat(), None
        except ValueError:
            return None, "error.date"
    if field.kind == "int":
        return (int(raw), None) if raw.isdigit() else (None, "error.count")
    if field.kind == "choice":
        return (raw, None) if raw in field.choices else (None, "error.choice")
    if field.kind == "names":
        names = _names(raw)
        return (names, None) if all(len(n) <= 64 for n in names) else (None, "error.too_long")
    return raw, None


def read_record(kind: str, form, task: dict | None = None) -> tuple[dict, dict[str, str]]:
    """(record, errors) from a posted form. An error is a message key of the catalogue (i18n.py), or — for a rule
    only the schema knows — the schema's own words."""
    detail = (task or {}).get("detail") or {}
    record: dict = {name: detail[name] for name in FILLED_BY_PAGE.get(kind, ()) if name in detail}
    errors: dict[str, str] = {}
    for field in form_for(kind):
        raw = (form.get(field.name) or "").strip()
        if not raw:
            if field.required:
                errors[field.name] = "error.required"
            continue
        value, error = _read(field, raw)
        if error:
            errors[field.name] = error
        else:
            record[field.name] = value
    if not errors and kind in RECORD_SCHEMAS:
        try:
            check_record(kind, record)
        except ValidationError as exc:
            for name, messages in _flat(exc.messages).items():
                errors[name] = FRIENDLY.get((kind, name), messages)
    return record, errors


# Cross-field rules of the schemas, in the catalogue's words.
FRIENDLY = {("talk", "follow_up"): "error.follow_up_after", ("follow_up", "follow_up"): "error.follow_up_after"}


def _flat(messages) -> dict[str, str]:
    if isinstance(messages, dict):
        return {("_schema" if k == "_schema" else k): "; ".join(map(str, v)) if isinstance(v, list) else str(v)
                for k, v in messages.items()}
    return {"_schema": str(messages)}


def read_review(form) -> tuple[dict, dict[str, str]]:
    """The department head's decision on a submitted course review: approve, or return saying what is missing."""
    decision = (form.get("decision") or "").strip()
    comment = (form.get("comment") or "").strip()
    errors = {}
    if decision not in REVIEW_DECISIONS:
        errors["decision"] = "error.choice"
    elif decision == "return" and not comment:
        errors["comment"] = "error.return_needs_comment"
    if len(comment) > 2000:
        errors["comment"] = "error.too_long"
    return {"decision": decision, "comment": comment or None}, errors
