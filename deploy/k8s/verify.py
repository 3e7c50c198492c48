"""What the Kubernetes schemas cannot say about deploy/k8s/, checked on each overlay as kustomize renders it.

    python deploy/k8s/verify.py [OVERLAY_DIR...]     # default: every deploy/k8s/overlays/*; exit 1 on a problem

deploy/check.sh runs this after validating the same renders against the Kubernetes JSON schemas
(kubernetes-validate --strict); tests/unit/deploy/test_k8s.py imports it. Rendering uses `kustomize build` if a
kustomize binary is on PATH (or $KUSTOMIZE), else `kubectl kustomize` (kubectl carries kustomize).

The rules: one Deployment per nameko service (shared.config.SERVICES) running `aq service run <name>` with
AQ_MIGRATE_ON_START=0, an init container that waits for the migrations, and startup/readiness/liveness probes
running `aq health --local <name>` (commands parse with the real aq CLI); a Job running `aq migrate`; the
broker URI and database URL from a Secret; resource requests and memory limits on every container; every
ConfigMap, Secret, ServiceAccount and Service that a pod refers to exists (production: the Secrets listed in
EXTERNAL_SECRETS are made outside the repository); Services select pods; AQ_QUEUE_TYPE=quorum and the
RabbitMQ StatefulSet loads definitions that equal deploy/rabbitmq/definitions.json, all quorum queues; and the
PostgreSQL connections the services may open (replicas plus a rolling update's surge, times pool + overflow)
fit under max_connections. Production: RabbitMQ runs three nodes, every service at least two instances with a
PodDisruptionBudget, and the image has a fixed tag.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
OVERLAYS = K8S / "overlays"
DEFINITIONS = REPO / "deploy" / "rabbitmq" / "definitions.json"

# Made by the operator before the first apply of the production overlay (docs/operations.md).
EXTERNAL_SECRETS = {"aq-secrets", "rabbitmq-users", "rabbitmq-erlang-cookie", "postgres"}
SECRET_ENV = ("AQ_AMQP_URI", "AQ_DATABASE_URL")
# Connections kept free beside the services': the migration Job and a few operator sessions (psql, aq CLI).
RESERVED_CONNECTIONS = 20


def _compose_verify():
    spec = importlib.util.spec_from_file_location("aq_compose_verify", REPO / "deploy" / "compose" / "verify.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def aq_command_problem(args: list[str]) -> str | None:
    """None if ``aq <args>`` parses with the real CLI (shared with deploy/compose/verify.py)."""
    return _compose_verify().aq_command_problem(args)


def nameko_services() -> tuple[str, ...]:
    sys.path.insert(0, str(REPO))
    from shared.config import SERVICES
    return tuple(SERVICES)


# --- rendering ------------------------------------------------------------------------------------------------

def render_command(overlay: Path) -> list[str]:
    kustomize = os.environ.get("KUSTOMIZE") or shutil.which("kustomize")
    if kustomize:
        return [kustomize, "build", str(overlay)]
    kubectl = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if kubectl:
        return [kubectl, "kustomize", str(overlay)]
    raise RuntimeError("neither kustomize nor kubectl (which carries kustomize) is installed: "
                       "apt-get install kubectl, or set KUSTOMIZE to a kustomize binary")


def render_text(overlay: Path) -> str:
    result = subprocess.run(render_command(overlay), capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"kustomize could not render {overlay}: {result.stderr.strip()}")
    return result.stdout


def render(overlay: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(render_text(overlay)) if doc]


# --- helpers --------------------------------------------------------------------------------------------------

def by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d.get("kind") == kind}


def pod_specs(docs: list[dict]) -> list[tuple[str, dict, dict]]:
    """(where, object, pod spec) for everything that runs pods."""
    found = []
    for doc in docs:
        if doc.get("kind") in ("Deployment", "StatefulSet", "Job", "DaemonSet"):
            found.append((f"{doc['kind']}/{doc['metadata']['name']}", doc, doc["spec"]["template"]["spec"]))
    return found


def containers(spec: dict) -> list[dict]:
    return list(spec.get("initContainers") or []) + list(spec.get("containers") or [])


def env_value(container: dict, name: str, config_maps: dict[str, dict]) -> str | None:
    """A plain variable as the container sees it: its own env wins over envFrom ConfigMaps."""
    for item in container.get("env") or []:
        if item["name"] == name:
            return item.get("value")
    value = None
    for source in container.get("envFrom") or []:
        ref = (source.get("configMapRef") or {}).get("name")
        if ref in config_maps:
            value = (config_maps[ref].get("data") or {}).get(name, value)
    return value


def secret_env(container: dict, name: str) -> str | None:
    for item in container.get("env") or []:
        if item["name"] == name:
            return ((item.get("valueFrom") or {}).get("secretKeyRef") or {}).get("name")
    return None


def exec_command(probe: dict | None) -> list[str] | None:
    return ((probe or {}).get("exec") or {}).get("command")


def mem_bytes(quantity: str) -> float:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9}
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(quantity))
    return float(match.group(1)) * units.get(match.group(2), 1) if match else float("nan")


def postgres_setting(statefulset: dict, name: str) -> str | None:
    args = statefulset["spec"]["template"]["spec"]["containers"][0].get("args") or []
    for i, arg in enumerate(args):
        if arg == "-c" and i + 1 < len(args) and args[i + 1].startswith(name + "="):
            return args[i + 1].split("=", 1)[1]
    return None


def max_surge(deployment: dict, replicas: int) -> int:
    surge = ((deployment["spec"].get("strategy") or {}).get("rollingUpdate") or {}).get("maxSurge", "25%")
    if isinstance(surge, str) and surge.endswith("%"):
        return -(-replicas * int(surge[:-1]) // 100)
    return int(surge)


def connection_budget(docs: list[dict]) -> dict[str, int]:
    """service -> the most PostgreSQL connections its instances may hold during a rolling update."""
    config_maps = by_kind(docs, "ConfigMap")
    deployments = by_kind(docs, "Deployment")
    budget = {}
    for service in nameko_services() + ("gateway",):      # the HTTP gateway has a database too
        deployment = deployments.get(f"aq-{service}")
        if deployment is None:
            continue
        container = next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == service)
        per_instance = int(env_value(container, "AQ_DB_POOL_SIZE", config_maps) or 5) \
            + int(env_value(container, "AQ_DB_MAX_OVERFLOW", config_maps) or 5)
        if service == "notification":      # its autocommit pool for per-notice checkpoints (shared/db.py)
            per_instance += int(env_value(container, "AQ_DB_AUTOCOMMIT_POOL_SIZE", config_maps) or 2)
        replicas = int(deployment["spec"].get("replicas", 1))
        budget[service] = (replicas + max_surge(deployment, replicas)) * per_instance
    return budget


# --- the rules ------------------------------------------------------------------------------------------------

def service_problems(docs: list[dict]) -> list[str]:
    problems = []
    config_maps = by_kind(docs, "ConfigMap")
    deployments = by_kind(docs, "Deployment")
    images = set()
    for service in nameko_services():
        name = f"aq-{service}"
        deployment = deployments.get(name)
        if deployment is None:
            problems.append(f"no Deployment {name} for the nameko service {service}")
            continue
        spec = deployment["spec"]["template"]["spec"]
        selector = deployment["spec"]["selector"].get("matchLabels") or {}
        labels = deployment["spec"]["template"]["metadata"].get("labels") or {}
        if not selector or any(labels.get(k) != v for k, v in selector.items()):
            problems.append(f"Deployment/{name}: the selector does not match the pod labels")
        main = [c for c in spec["containers"] if c["name"] == service]
        if len(main) != 1:
            problems.append(f"Deployment/{name}: needs exactly one container named {service}")
            continue
        container = main[0]
        images.add(container.get("image"))
        if container.get("command"):
            problems.append(f"Deployment/{name}: keep the image's entrypoint (aq); set args, not command")
        if container.get("args") != ["service", "run", service]:
            problems.append(f"Deployment/{name}: args must be ['service', 'run', '{service}']")
        problem = aq_command_problem(container.get("args") or [])
        if problem:
            problems.append(f"Deployment/{name}: {problem}")
        if env_value(container, "AQ_MIGRATE_ON_START", config_maps) != "0":
            problems.append(f"Deployment/{name}: AQ_MIGRATE_ON_START must be 0 (the aq-migrate Job migrates)")
        for variable in SECRET_ENV:
            if not secret_env(container, variable):
                problems.append(f"Deployment/{name}: {variable} must come from a Secret (secretKeyRef)")
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            command = exec_command(container.get(kind))
            if command != ["aq", "health", "--local", service]:
                problems.append(f"Deployment/{name}: {kind} must exec `aq health --local {service}` "
                                "(this container's own health: broker, database, outbox)")
            elif aq_command_problem(command[1:]):
                problems.append(f"Deployment/{name}: {kind}: {aq_command_problem(command[1:])}")
        if (container.get("livenessProbe") or {}).get("failureThreshold", 3) * \
                (container.get("livenessProbe") or {}).get("periodSeconds", 10) < 60:
            problems.append(f"Deployment/{name}: the liveness probe would restart the service within a minute of "
                            "a broker or database blip; allow at least 60 s")
        waits = [c for c in spec.get("initContainers") or []
                 if (c.get("command") or [])[-2:] == ["/opt/aq/scripts/wait_for_migrations.py", service]]
        if not waits:
            problems.append(f"Deployment/{name}: needs the init container that waits for the migrations "
                            f"(python /opt/aq/scripts/wait_for_migrations.py {service})")
        elif not secret_env(waits[0], "AQ_DATABASE_URL"):
            problems.append(f"Deployment/{name}: the migration wait needs AQ_DATABASE_URL from the Secret")
        mounts = {m["mountPath"] for m in container.get("volumeMounts") or []}
        if env_value(container, "AQ_HOME", config_maps) not in mounts:
            problems.append(f"Deployment/{name}: AQ_HOME must be a mounted volume (heartbeats the probes read)")
    if len(images) > 1:
        problems.append(f"the services run different images: {sorted(map(str, images))}")

    jobs = [j for j in by_kind(docs, "Job").values()
            if any(c.get("args") == ["migrate"] for c in j["spec"]["template"]["spec"]["containers"])]
    if len(jobs) != 1:
        problems.append("needs one Job running `aq migrate` (args ['migrate'])")
    else:
        container = jobs[0]["spec"]["template"]["spec"]["containers"][0]
        if not secret_env(container, "AQ_DATABASE_URL"):
            problems.append(f"Job/{jobs[0]['metadata']['name']}: AQ_DATABASE_URL must come from a Secret")
        if images and container.get("image") not in images:
            problems.append(f"Job/{jobs[0]['metadata']['name']}: must run the services' image")
    return problems


def resource_problems(docs: list[dict]) -> list[str]:
    problems = []
    for where, _, spec in pod_specs(docs):
        for container in containers(spec):
            resources = container.get("resources") or {}
            requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
            if "cpu" not in requests or "memory" not in requests:
                problems.append(f"{where}: container {container['name']} needs cpu and memory requests")
            if "memory" not in limits:
                problems.append(f"{where}: container {container['name']} needs a memory limit")
            elif "memory" in requests and mem_bytes(limits["memory"]) < mem_bytes(requests["memory"]):
                problems.append(f"{where}: container {container['name']}: memory limit below its request")
    return problems


def reference_problems(docs: list[dict], external_secrets: set[str]) -> list[str]:
    problems = []
    config_maps, secrets = set(by_kind(docs, "ConfigMap")), set(by_kind(docs, "Secret")) | external_secrets
    accounts = set(by_kind(docs, "ServiceAccount")) | {"default"}
    for where, obj, spec in pod_specs(docs):
        wanted: list[tuple[str, str]] = []
        for container in containers(spec):
            for source in container.get("envFrom") or []:
                if "configMapRef" in source:
                    wanted.append(("ConfigMap", source["configMapRef"]["name"]))
                if "secretRef" in source:
                    wanted.append(("Secret", source["secretRef"]["name"]))
            for item in container.get("env") or []:
                ref = item.get("valueFrom") or {}
                if "configMapKeyRef" in ref:
                    wanted.append(("ConfigMap", ref["configMapKeyRef"]["name"]))
                if "secretKeyRef" in ref:
                    wanted.append(("Secret", ref["secretKeyRef"]["name"]))
        for volume in spec.get("volumes") or []:
            if "configMap" in volume:
                wanted.append(("ConfigMap", volume["configMap"]["name"]))
            if "secret" in volume:
                wanted.append(("Secret", volume["secret"]["secretName"]))
            for source in (volume.get("projected") or {}).get("sources") or []:
                if "configMap" in source:
                    wanted.append(("ConfigMap", source["configMap"]["name"]))
                if "secret" in source:
                    wanted.append(("Secret", source["secret"]["name"]))
        if spec.get("serviceAccountName"):
            wanted.append(("ServiceAccount", spec["serviceAccountName"]))
        for kind, name in wanted:
            known = {"ConfigMap": config_maps, "Secret": secrets, "ServiceAccount": accounts}[kind]
            if name not in known:
                problems.append(f"{where}: refers to {kind} {name}, which is not in the overlay")
        for container in containers(spec):
            mounted = {v["name"] for v in spec.get("volumes") or []}
            mounted |= {t["metadata"]["name"] for t in (obj["spec"].get("volumeClaimTemplates") or [])}
            for mount in container.get("volumeMounts") or []:
                if mount["name"] not in mounted:
                    problems.append(f"{where}: container {container['name']} mounts unknown volume {mount['name']}")

    pods = [(d["spec"]["template"]["metadata"].get("labels") or {}) for _, d, _ in pod_specs(docs)]
    for name, service in by_kind(docs, "Service").items():
        selector = service["spec"].get("selector") or {}
        if selector and not any(all(labels.get(k) == v for k, v in selector.items()) for labels in pods):
            problems.append(f"Service/{name}: selects no pods")
    return problems


def rabbitmq_problems(docs: list[dict]) -> list[str]:
    problems = []
    statefulset = by_kind(docs, "StatefulSet").get("rabbitmq")
    config_maps = by_kind(docs, "ConfigMap")
    for deployment in by_kind(docs, "Deployment").values():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            if container.get("args", [])[:2] == ["service", "run"] \
                    and env_value(container, "AQ_QUEUE_TYPE", config_maps) != "quorum":
                problems.append(f"Deployment/{deployment['metadata']['name']}: AQ_QUEUE_TYPE must be quorum, as "
                                "the broker definitions declare the queues")
    if statefulset is None:
        return problems + ["no RabbitMQ StatefulSet named rabbitmq"]
    spec = statefulset["spec"]["template"]["spec"]
    container = spec["containers"][0]
    headless = by_kind(docs, "Service").get(statefulset["spec"]["serviceName"])
    if headless is None or headless["spec"].get("clusterIP") != "None" \
            or not headless["spec"].get("publishNotReadyAddresses"):
        problems.append("StatefulSet/rabbitmq: serviceName must be a headless Service that publishes not-ready "
                        "addresses (peer discovery)")
    env = {e["name"]: e.get("value") for e in container.get("env") or []}
    if env.get("K8S_SERVICE_NAME") != statefulset["spec"]["serviceName"]:
        problems.append("StatefulSet/rabbitmq: K8S_SERVICE_NAME must name the headless Service")
    if "$(K8S_SERVICE_NAME)" not in (env.get("RABBITMQ_NODENAME") or "") \
            or env.get("RABBITMQ_USE_LONGNAME") != "true":
        problems.append("StatefulSet/rabbitmq: node names must be the pods' stable DNS names (long names)")

    volumes = {v["name"]: v for v in spec.get("volumes") or []}
    mounts = {m["mountPath"]: m for m in container.get("volumeMounts") or []}
    conf_mount = next((m for path, m in mounts.items() if path.startswith("/etc/rabbitmq/conf.d/")), None)
    conf_map = config_maps.get(((volumes.get(conf_mount["name"]) or {}).get("configMap") or {}).get("name", "")) \
        if conf_mount else None
    conf = (conf_map or {}).get("data", {}).get((conf_mount or {}).get("subPath", ""), "")
    settings = dict(line.split("=", 1) for line in conf.splitlines() if "=" in line and not line.startswith("#"))
    settings = {k.strip(): v.strip() for k, v in settings.items()}
    if settings.get("cluster_formation.peer_discovery_backend") != "rabbit_peer_discovery_k8s":
        problems.append("rabbitmq.conf: cluster formation must use the Kubernetes peer discovery backend")
    plugins_mount = mounts.get("/etc/rabbitmq/enabled_plugins")
    plugins = (config_maps.get(((volumes.get((plugins_mount or {}).get("name")) or {}).get("configMap") or {})
                               .get("name", "")) or {}).get("data", {}).get((plugins_mount or {}).get("subPath"), "")
    if "rabbitmq_peer_discovery_k8s" not in plugins:
        problems.append("enabled_plugins: rabbitmq_peer_discovery_k8s is not enabled")

    definitions_dir = settings.get("load_definitions")
    mount = mounts.get(definitions_dir or "")
    if mount is None:
        return problems + ["rabbitmq.conf: load_definitions must name the mounted definitions directory"]
    loaded = []
    for source in (volumes.get(mount["name"], {}).get("projected") or {}).get("sources") or []:
        if "configMap" in source:
            data = config_maps.get(source["configMap"]["name"], {}).get("data", {})
            loaded += [json.loads(data[item["key"]]) for item in source["configMap"].get("items", []) if item["key"] in data]
    expected = json.loads(DEFINITIONS.read_text(encoding="utf-8"))
    if expected not in loaded:
        problems.append("the broker does not load deploy/rabbitmq/definitions.json")
    queues = expected.get("queues", [])
    if not queues or any(q["arguments"].get("x-queue-type") != "quorum" for q in queues):
        problems.append("deploy/rabbitmq/definitions.json: every queue must be a quorum queue")
    return problems


def postgres_problems(docs: list[dict]) -> list[str]:
    statefulset = by_kind(docs, "StatefulSet").get("postgres")
    if statefulset is None:
        return []        # a managed PostgreSQL: its connection limit is documented, not rendered
    limit = int(postgres_setting(statefulset, "max_connections") or 100)
    reserved = int(postgres_setting(statefulset, "superuser_reserved_connections") or 3)
    budget = connection_budget(docs)
    needed = sum(budget.values()) + RESERVED_CONNECTIONS
    if needed > limit - reserved:
        return [(f"PostgreSQL: the services may open {sum(budget.values())} connections ({budget}) plus "
                 f"{RESERVED_CONNECTIONS} reserved, over max_connections {limit} - {reserved} for superusers")]
    return []


def production_problems(docs: list[dict]) -> list[str]:
    problems = []
    statefulset = by_kind(docs, "StatefulSet").get("rabbitmq")
    if statefulset is None or int(statefulset["spec"].get("replicas", 1)) != 3:
        problems.append("production: RabbitMQ must run three nodes")
    pdbs = by_kind(docs, "PodDisruptionBudget").values()
    for service in nameko_services():
        deployment = by_kind(docs, "Deployment").get(f"aq-{service}")
        if deployment is not None and int(deployment["spec"].get("replicas", 1)) < 2:
            problems.append(f"production: aq-{service} needs at least two instances")
        if not any((p["spec"].get("selector", {}).get("matchLabels") or {}).get("app.kubernetes.io/name")
                   == f"aq-{service}" for p in pdbs):
            problems.append(f"production: aq-{service} needs a PodDisruptionBudget")
    for where, _, spec in pod_specs(docs):
        for container in containers(spec):
            if str(container.get("image", "")).endswith(":latest") or ":" not in str(container.get("image", "")):
                problems.append(f"production: {where} runs {container.get('image')}: pin a tag")
    if by_kind(docs, "Secret"):
        problems.append(f"production: Secrets in the repository ({sorted(by_kind(docs, 'Secret'))}); "
                        "make them outside it")
    return problems


def overlay_problems(docs: list[dict], overlay: str) -> list[str]:
    production = overlay == "production"
    problems = service_problems(docs) + resource_problems(docs)
    problems += reference_problems(docs, EXTERNAL_SECRETS if production else set())
    problems += rabbitmq_problems(docs) + postgres_problems(docs)
    if production:
        problems += production_problems(docs)
    return problems


def main(argv: list[str]) -> int:
    overlays = [Path(a).resolve() for a in argv] or sorted(p for p in OVERLAYS.iterdir() if p.is_dir())
    failed = False
    for overlay in overlays:
        try:
            problems = overlay_problems(render(overlay), overlay.name)
        except RuntimeError as exc:
            problems = [str(exc)]
        for problem in problems:
            print(f"problem: {overlay.name}: {problem}", file=sys.stderr)
        failed |= bool(problems)
        if not problems:
            budget = connection_budget(render(overlay))
            print(f"{overlay.name}: Kubernetes project checks ok "
                  f"(PostgreSQL connections at most {sum(budget.values())} during a rolling update)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
