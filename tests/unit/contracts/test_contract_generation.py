"""The checked-in contracts equal a fresh generation, and `python -m contracts.generate --check` says so."""
import subprocess
import sys
from pathlib import Path

from marshmallow import fields

from contracts import generate
from contracts.registry import EVENT_TYPES, EventType

REPO = Path(__file__).resolve().parents[3]


def test_checked_in_contracts_equal_a_fresh_generation():
    problems = generate.drift()
    assert problems == [], (
        "contracts are out of date; run `python -m contracts.generate`:\n" + "\n".join(problems))


def test_one_file_per_event_type_plus_the_envelope():
    names = sorted(p.name for p in generate.JSONSCHEMA_DIR.glob("*.json"))
    assert names == sorted(["envelope.json"] + [f"{e.type}.v{e.version}.json" for e in EVENT_TYPES])
    assert generate.ASYNCAPI_PATH.is_file()


def test_generation_is_deterministic():
    assert generate.render() == generate.render()


def test_check_command_passes_on_the_checked_in_files():
    result = subprocess.run([sys.executable, "-m", "contracts.generate", "--check"], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


def _with_changed_schema(monkeypatch):
    """Pretend a developer added a field to grades.records_stored v1 without regenerating."""
    original = next(e for e in EVENT_TYPES if e.type == "grades.records_stored")
    changed_schema = type("RecordsStoredSchema", (original.schema,), {"extra": fields.String(required=True)})
    changed = EventType(original.type, original.version, changed_schema, original.producer,
                        original.subscribers, original.summary)
    monkeypatch.setattr(generate, "EVENT_TYPES",
                        tuple(changed if e is original else e for e in EVENT_TYPES))


def test_drift_names_the_file_when_a_schema_changes_without_regenerating(monkeypatch, capsys):
    _with_changed_schema(monkeypatch)
    problems = generate.drift()
    assert any("contracts/jsonschema/grades.records_stored.v1.json" in p for p in problems), problems
    assert any("contracts/asyncapi.yaml" in p for p in problems), problems
    assert not any("warnings.changed" in p for p in problems)

    assert generate.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "grades.records_stored.v1.json" in err
    assert "python -m contracts.generate" in err


def test_write_then_check_in_a_scratch_directory(monkeypatch, tmp_path):
    monkeypatch.setattr(generate, "JSONSCHEMA_DIR", tmp_path / "jsonschema")
    monkeypatch.setattr(generate, "ASYNCAPI_PATH", tmp_path / "asyncapi.yaml")
    assert len(generate.drift()) == len(EVENT_TYPES) + 2          # everything missing

    generate.write()
    assert generate.drift() == []
    assert generate.write() == []                                  # nothing to rewrite the second time

    stale = tmp_path / "jsonschema" / "grades.records_stored.v0.json"
    stale.write_text("{}\n")
    (tmp_path / "jsonschema" / "envelope.json").write_text("{}\n")
    problems = generate.drift()
    assert any("envelope.json" in p and "differs" in p for p in problems)
    assert any("grades.records_stored.v0.json" in p and "stale" in p for p in problems)

    generate.write()
    assert not stale.exists()
    assert generate.drift() == []
