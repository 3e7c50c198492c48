"""The complete rule-plugin example of docs/warnings.md ("Writing your own rule") works as printed: its module loads
through its entry point, the policy file names it, `aq policy check` accepts it, and its own tests pass."""
import importlib.util
import re
import sys
import tomllib
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from click.testing import CliRunner

from aq_cli.main import cli
from services.warnings.domain import rules as rule_plugins
from services.warnings.domain.policy import Policy

DOC = Path(__file__).resolve().parents[3] / "docs" / "warnings.md"
BLOCK = re.compile(r"<!-- example: (?P<name>\S+) -->\n```\w*\n(?P<body>.*?)\n```", re.S)


@pytest.fixture
def college_package(tmp_path, monkeypatch):
    """The example laid out as the college's package, importable, with its entry point registered."""
    blocks = {m["name"]: m["body"] + "\n" for m in BLOCK.finditer(DOC.read_text(encoding="utf-8"))}
    assert set(blocks) == {"aq_college_rules/failed_courses.py", "pyproject.toml", "policy.yml",
                           "tests/test_failed_courses.py"}
    for name, body in blocks.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body, encoding="utf-8")
    (tmp_path / "aq_college_rules" / "__init__.py").write_text("", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    declared = tomllib.loads(blocks["pyproject.toml"])["project"]["entry-points"][rule_plugins.GROUP]
    real = rule_plugins.available_rules
    monkeypatch.setattr(rule_plugins, "available_rules", lambda: {
        **real(), **{name: EntryPoint(name, value, rule_plugins.GROUP) for name, value in declared.items()}})
    yield tmp_path
    for module in [m for m in sys.modules if m.split(".")[0] in ("aq_college_rules", "test_failed_courses")]:
        del sys.modules[module]


def test_the_policy_file_of_the_example_loads_the_rule_through_its_entry_point(college_package):
    policy = Policy.from_file(college_package / "policy.yml")
    (rule,) = policy.rules
    assert (rule.name, type(rule).__name__, rule.options) == (
        "failed_courses", "FailedCourses", {"course_types": ["required", "restricted"]})
    checked = CliRunner().invoke(cli, ["policy", "check", str(college_package / "policy.yml")])
    assert checked.exit_code == 0 and checked.stdout.startswith("ok: version college-2, rules failed_courses")


def test_the_examples_own_tests_pass(college_package):
    spec = importlib.util.spec_from_file_location("test_failed_courses",
                                                  college_package / "tests" / "test_failed_courses.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tests = [getattr(module, name) for name in dir(module) if name.startswith("test_")]
    assert len(tests) == 2
    for test in tests:
        test()


def test_the_readme_shows_the_same_tested_example():
    readme = DOC.parents[1] / "README.md"
    shown = {m["name"]: m["body"] for m in BLOCK.finditer(readme.read_text(encoding="utf-8"))}
    tested = {m["name"]: m["body"] for m in BLOCK.finditer(DOC.read_text(encoding="utf-8"))}
    assert set(shown) == {"aq_college_rules/failed_courses.py", "pyproject.toml", "policy.yml"}
    assert all(shown[name] == tested[name] for name in shown)
