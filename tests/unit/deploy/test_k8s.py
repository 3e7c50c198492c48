"""deploy/k8s/: each overlay renders with kustomize, passes the Kubernetes JSON schemas strictly
(kubernetes-validate, offline) and the project's rules (deploy/k8s/verify.py) -- and each check catches the
breakage it is there for. The migration wait of the init containers is run against real (SQLite) databases."""
import copy
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest

REPO = Path(__file__).resolve().parents[3]
K8S_VERSION = os.environ.get("K8S_VERSION", "1.31")
OVERLAYS = ("dev", "production")


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


verify = _load("aq_k8s_verify", REPO / "deploy" / "k8s" / "verify.py")


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict]]:
    return {name: verify.render(REPO / "deploy" / "k8s" / "overlays" / name) for name in OVERLAYS}


def find(docs, kind, name):
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def container_of(docs, service):
    deployment = find(docs, "Deployment", f"aq-{service}")
    return next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == service)


def config_map(docs, prefix):
    return next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith(prefix))


# --- schemas ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_of_the_overlay_follows_the_kubernetes_schema(rendered, overlay):
    assert len(rendered[overlay]) > 20
    for doc in rendered[overlay]:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_schema_check_catches_a_bad_manifest(rendered):
    deployment = copy.deepcopy(find(rendered["production"], "Deployment", "aq-warnings"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}      # misspelt field
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)
    deployment = copy.deepcopy(find(rendered["production"], "Deployment", "aq-warnings"))
    deployment["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


# --- project rules ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_overlay_satisfies_the_project_rules(rendered, overlay):
    assert verify.overlay_problems(rendered[overlay], overlay) == []


def test_one_deployment_per_service_running_it_with_its_own_health_probes(rendered):
    from shared.config import SERVICES
    docs = rendered["production"]
    deployments = {d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"}
    assert deployments == {f"aq-{s}" for s in SERVICES} | {"aq-gateway"}     # the HTTP gateway: docs/gateway.md
    gateway = container_of(docs, "gateway")
    assert gateway["args"] == ["service", "run", "gateway"]
    assert gateway["readinessProbe"]["httpGet"] == {"path": "/api/health", "port": "http"}
    assert gateway["livenessProbe"]["exec"]["command"] == ["aq", "health", "--local", "gateway"]
    for service in SERVICES:
        container = container_of(docs, service)
        assert container["args"] == ["service", "run", service]
        assert container["readinessProbe"]["exec"]["command"] == ["aq", "health", "--local", service]
        assert container["livenessProbe"]["exec"]["command"] == ["aq", "health", "--local", service]
        assert container["image"] == "registry.college.example/academic-quality:0.1.0"
    job = find(docs, "Job", "aq-migrate")
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
    assert config_map(docs, "aq-config-")["data"]["AQ_MIGRATE_ON_START"] == "0"
    assert config_map(docs, "aq-config-")["data"]["AQ_QUEUE_TYPE"] == "quorum"


def test_production_runs_three_rabbitmq_nodes_and_scaled_services(rendered):
    docs = rendered["production"]
    assert find(docs, "StatefulSet", "rabbitmq")["spec"]["replicas"] == 3
    replicas = {d["metadata"]["name"]: d["spec"]["replicas"] for d in docs if d["kind"] == "Deployment"}
    assert min(replicas.values()) >= 2 and replicas["aq-warnings"] == 3 and replicas["aq-notification"] == 3
    assert container_of(docs, "warnings")["resources"]["requests"]["cpu"] == "500m"
    workers = {e["name"]: e.get("value") for e in container_of(docs, "notification")["env"]}
    assert workers["AQ_MAX_WORKERS"] == "20"
    assert find(rendered["dev"], "StatefulSet", "rabbitmq")["spec"]["replicas"] == 1


def test_the_broker_loads_the_generated_definitions(rendered):
    for docs in rendered.values():
        data = config_map(docs, "rabbitmq-definitions-")["data"]["definitions.json"]
        assert json.loads(data) == json.loads((REPO / "deploy" / "rabbitmq" / "definitions.json").read_text())
        conf = config_map(docs, "rabbitmq-config-")["data"]["rabbitmq.conf"]
        assert "load_definitions = /etc/rabbitmq/definitions.d" in conf


def test_the_postgresql_connection_budget(rendered):
    budget = verify.connection_budget(rendered["production"])
    # (replicas + 1 surging during a rolling update) x (pool + overflow), as docs/operations.md works it out
    assert budget == {"roster": 3 * 7, "grades": 3 * 6, "warnings": 4 * 6, "notification": 4 * 12,
                      "advising": 3 * 8, "assessment": 3 * 8, "gateway": 3 * 5}
    statefulset = find(rendered["production"], "StatefulSet", "postgres")
    assert verify.postgres_setting(statefulset, "max_connections") == "200"
    assert sum(budget.values()) + verify.RESERVED_CONNECTIONS <= 200 - 5


def _set_env(docs, service, name, value):
    container_of(docs, service)["env"].append({"name": name, "value": value})


def _container(docs, service):
    return container_of(docs, service)


@pytest.mark.parametrize("breakage, expected", [
    (lambda d: d.remove(find(d, "Deployment", "aq-advising")), "no Deployment aq-advising"),
    (lambda d: _container(d, "grades").update(args=["service", "start", "grades"]), "no command 'start'"),
    (lambda d: _container(d, "roster")["readinessProbe"].update(exec={"command": ["true"]}), "aq health --local roster"),
    (lambda d: _container(d, "warnings")["livenessProbe"].update(exec={"command": ["aq", "health", "warnings"]}),
     "livenessProbe must exec"),
    (lambda d: _container(d, "warnings")["livenessProbe"].update(failureThreshold=1), "within a minute"),
    (lambda d: _set_env(d, "notification", "AQ_MIGRATE_ON_START", "1"), "AQ_MIGRATE_ON_START must be 0"),
    (lambda d: _set_env(d, "assessment", "AQ_QUEUE_TYPE", "classic"), "AQ_QUEUE_TYPE must be quorum"),
    (lambda d: _container(d, "grades")["env"].__setitem__(
        next(i for i, e in enumerate(_container(d, "grades")["env"]) if e["name"] == "AQ_AMQP_URI"),
        {"name": "AQ_AMQP_URI", "value": "amqp://aq:secret@rabbitmq/"}), "AQ_AMQP_URI must come from a Secret"),
    (lambda d: find(d, "Deployment", "aq-roster")["spec"]["template"]["spec"].pop("initContainers"),
     "waits for the migrations"),
    (lambda d: _container(d, "advising").pop("resources"), "needs cpu and memory requests"),
    (lambda d: d.remove(find(d, "Job", "aq-migrate")), "aq migrate"),
    (lambda d: find(d, "StatefulSet", "rabbitmq")["spec"].update(replicas=1), "three nodes"),
    (lambda d: find(d, "Deployment", "aq-warnings")["spec"].update(replicas=1), "at least two instances"),
    (lambda d: d.remove(find(d, "PodDisruptionBudget", "aq-grades")), "aq-grades needs a PodDisruptionBudget"),
    (lambda d: _container(d, "roster").update(image="academic-quality:latest"), "pin a tag"),
    (lambda d: d.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "aq-secrets"}}),
     "Secrets in the repository"),
    (lambda d: find(d, "Service", "rabbitmq")["spec"].update(selector={"app.kubernetes.io/name": "rabbit"}),
     "selects no pods"),
    (lambda d: find(d, "Deployment", "aq-grades")["spec"]["template"]["spec"]["volumes"].__setitem__(
        2, {"name": "scripts", "configMap": {"name": "aq-scriptz"}}), "ConfigMap aq-scriptz"),
    (lambda d: find(d, "StatefulSet", "postgres")["spec"]["template"]["spec"]["containers"][0]["args"]
     .__setitem__(1, "max_connections=100"), "over max_connections"),
    (lambda d: find(d, "Deployment", "aq-notification")["spec"].update(replicas=12), "over max_connections"),
    (lambda d: config_map(d, "rabbitmq-definitions-")["data"].update(
        {"definitions.json": json.dumps({"queues": []})}), "does not load deploy/rabbitmq/definitions.json"),
    (lambda d: find(d, "Service", "rabbitmq-nodes")["spec"].pop("clusterIP"), "headless Service"),
])
def test_project_rules_catch_breakage(rendered, breakage, expected):
    broken = copy.deepcopy(rendered["production"])
    breakage(broken)
    problems = verify.overlay_problems(broken, "production")
    assert any(expected in p for p in problems), problems


# --- the init containers' migration wait ----------------------------------------------------------------------

def _wait(url_template, service="roster"):
    env = dict(os.environ, AQ_DATABASE_URL=url_template, AQ_MIGRATION_WAIT_SECONDS="1",
               AQ_MIGRATION_POLL_SECONDS="0.2", PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, str(REPO / "deploy" / "k8s" / "base" / "wait_for_migrations.py"), service],
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def test_the_migration_wait_holds_a_service_back_until_its_database_is_at_head(tmp_path):
    from shared.migrations import upgrade
    template = f"sqlite:///{tmp_path}/aq_{{service}}.sqlite"
    waiting = _wait(template)
    assert waiting.returncode == 1, waiting.stdout + waiting.stderr
    assert "waiting for the aq-migrate job" in waiting.stdout and "gave up" in waiting.stderr

    upgrade("roster", template.replace("{service}", "roster"))
    ready = _wait(template)
    assert ready.returncode == 0, ready.stdout + ready.stderr
    assert "ready" in ready.stdout
    assert _wait(template, "grades").returncode == 1     # another service's database is not migrated yet


def test_the_migration_wait_mounts_the_script_the_base_ships(rendered):
    script = (REPO / "deploy" / "k8s" / "base" / "wait_for_migrations.py").read_text(encoding="utf-8")
    assert config_map(rendered["production"], "aq-scripts-")["data"]["wait_for_migrations.py"] == script
