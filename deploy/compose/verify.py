"""What the Compose specification schema cannot say about our container setup, checked without a Docker engine.

    python deploy/compose/verify.py [REPO_ROOT]     # prints every problem; exit 1 if there is one

deploy/check.sh runs this after validating docker-compose.yml against the Compose specification schema, and
tests/unit/deploy/ imports it. It checks docker-compose.yml, Dockerfile and .dockerignore against the
project: one container per nameko service (shared.config.SERVICES) running `aq service run <name>`, every
container command a valid `aq` invocation, the configuration variables, health-gated start order, scaling
(no container_name, no published ports on the services), named volumes, and an image built with
`pip install .` from exactly the packages pyproject.toml packages, run as a non-root user with entrypoint aq.
"""
from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]

AQ_IMAGE_BUILD_CONTEXT = "."
REQUIRED_ENV = ("AQ_AMQP_URI", "AQ_HOME", "AQ_DATABASE_URL", "AQ_SMTP_URL", "AQ_MAX_WORKERS", "AQ_MIGRATE_ON_START",
                "AQ_QUEUE_TYPE")


def load_compose(repo: Path = REPO, name: str = "docker-compose.yml") -> dict:
    # PyYAML resolves anchors and merge keys (<<) the way Compose does.
    return yaml.safe_load((repo / name).read_text(encoding="utf-8"))


def nameko_services() -> tuple[str, ...]:
    from shared.config import SERVICES
    return tuple(SERVICES)


def _is_aq_image(service: dict) -> bool:
    build = service.get("build")
    context = build.get("context") if isinstance(build, dict) else build
    return context == AQ_IMAGE_BUILD_CONTEXT and "image" in service


def aq_command_problem(args: list[str]) -> str | None:
    """None if ``aq <args>`` parses with the real CLI (arguments and options checked, nothing run), else why."""
    import contextlib
    import io

    import click

    from aq_cli.main import cli

    command: click.Command = cli
    ctx = click.Context(cli, info_name="aq")
    rest = list(args)
    shown = " ".join(args)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
                name, rest = rest[0], rest[1:]
                sub = command.get_command(ctx, name)
                if sub is None:
                    return f"`aq {shown}`: no command {name!r}"
                command = sub
                ctx = click.Context(sub, info_name=name, parent=ctx)
            command.make_context(ctx.info_name, rest, parent=ctx.parent)
    except click.exceptions.Exit:      # --help
        return None
    except click.ClickException as exc:
        return f"`aq {shown}`: {exc.format_message()}"
    if isinstance(command, click.Group):
        return f"`aq {shown}`: names a group, not a command"
    return None


def compose_problems(compose: dict) -> list[str]:
    problems: list[str] = []
    services = compose.get("services") or {}
    volumes = compose.get("volumes") or {}

    if not any(key.startswith("x-") for key in compose):
        problems.append("docker-compose.yml: no x- extension field; share the service definition with an anchor")

    rabbit = services.get("rabbitmq", {})
    if rabbit.get("image") != "rabbitmq:3.13-management":
        problems.append("rabbitmq: image must be rabbitmq:3.13-management")
    if "rabbitmq-diagnostics" not in json.dumps(rabbit.get("healthcheck", {}).get("test")) \
            or "ping" not in json.dumps(rabbit.get("healthcheck", {}).get("test")):
        problems.append("rabbitmq: healthcheck must run `rabbitmq-diagnostics ping`")
    if not rabbit.get("hostname"):
        problems.append("rabbitmq: set a fixed hostname, or its data volume is orphaned when the container changes")

    postgres = services.get("postgres", {})
    if postgres.get("image") != "postgres:16":
        problems.append("postgres: image must be postgres:16")
    if "pg_isready" not in json.dumps(postgres.get("healthcheck", {}).get("test")):
        problems.append("postgres: healthcheck must run pg_isready")

    for name, path in (("rabbitmq", "/var/lib/rabbitmq"), ("postgres", "/var/lib/postgresql/data")):
        mounts = [v for v in services.get(name, {}).get("volumes", []) if isinstance(v, str)]
        named = [m.split(":", 1)[0] for m in mounts if m.split(":")[1:2] == [path]]
        if not named or named[0] not in volumes:
            problems.append(f"{name}: mount a named volume (declared under top-level volumes:) at {path}")

    mailsink = services.get("mailsink")
    if not mailsink:
        problems.append("no mailsink service")
    elif (mailsink.get("command") or [None])[0] != "mailsink" or "8025" not in mailsink.get("command", []):
        problems.append("mailsink: command must be `mailsink ... --port 8025`")

    for name in nameko_services():
        service = services.get(name)
        if service is None:
            problems.append(f"no compose service for the nameko service {name!r}")
            continue
        where = f"services.{name}"
        if service.get("command") != ["service", "run", name]:
            problems.append(f"{where}: command must be [service, run, {name}] (entrypoint is aq)")
        if not _is_aq_image(service):
            problems.append(f"{where}: must run the project image (image + build context .)")
        if "container_name" in service:
            problems.append(f"{where}: container_name prevents `docker compose up --scale {name}=N`")
        if service.get("ports"):
            problems.append(f"{where}: publishes ports; services talk only through RabbitMQ")
        if service.get("restart") != "unless-stopped":
            problems.append(f"{where}: restart must be unless-stopped")
        depends = service.get("depends_on") or {}
        for infra in ("rabbitmq", "postgres"):
            if not isinstance(depends, dict) or depends.get(infra, {}).get("condition") != "service_healthy":
                problems.append(f"{where}: depends_on {infra} with condition service_healthy")
        env = service.get("environment") or {}
        if isinstance(env, list):
            env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
        for var in REQUIRED_ENV:
            if var not in env:
                problems.append(f"{where}: environment lacks {var}")
        if "{service}" not in str(env.get("AQ_DATABASE_URL", "")):
            problems.append(f"{where}: AQ_DATABASE_URL needs {{service}} so each service gets its own database")
        if "@rabbitmq" not in str(env.get("AQ_AMQP_URI", "")):
            problems.append(f"{where}: AQ_AMQP_URI must point at the rabbitmq service")
        if re.match(r"amqp://guest:", str(env.get("AQ_AMQP_URI", ""))):
            problems.append(f"{where}: RabbitMQ's guest user cannot log in from another container")

    for name, service in services.items():
        if _is_aq_image(service) and isinstance(service.get("command"), list):
            problem = aq_command_problem([str(a) for a in service["command"]])
            if problem:
                problems.append(f"services.{name}.command: {problem}")
    return problems


# --- Dockerfile and .dockerignore --------------------------------------------------------------------------

def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    result = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def _docker_glob(pattern: str) -> re.Pattern:
    """A .dockerignore pattern as a regex: `**` any number of path segments, `*` and `?` within one."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def dockerignore_allows(patterns: list[str], path: str) -> bool:
    """Docker's rule: the last matching pattern wins; a pattern also matches everything below a match."""
    allowed = True
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = (raw[1:] if negate else raw).strip().strip("/")
        if pattern and any(_docker_glob(pattern).fullmatch(p) for p in prefixes):
            allowed = negate
    return allowed


def packaged_top_levels(repo: Path = REPO) -> list[str]:
    pyproject = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    return sorted(pattern.rstrip("*").rstrip(".") for pattern in include)


def docker_problems(repo: Path = REPO) -> list[str]:
    problems: list[str] = []
    instructions = dockerfile_instructions((repo / "Dockerfile").read_text(encoding="utf-8"))
    froms = [args for word, args in instructions if word == "FROM"]
    if not froms or froms[-1].split()[0] != "python:3.11-slim":
        problems.append("Dockerfile: the image must be FROM python:3.11-slim")
    runs = " ".join(args for word, args in instructions if word == "RUN")
    if not re.search(r"pip install (--[\w-]+ )*\.(\s|$)", runs):
        problems.append("Dockerfile: install the project with `pip install .`")
    users = [args for word, args in instructions if word == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problems.append("Dockerfile: the last USER must be a non-root user")
    entrypoints = [args for word, args in instructions if word == "ENTRYPOINT"]
    if not entrypoints or json.loads(entrypoints[-1]) != ["aq"]:
        problems.append('Dockerfile: ENTRYPOINT must be ["aq"] (exec form)')

    ignore_path = repo / ".dockerignore"
    patterns = [p.strip() for p in ignore_path.read_text(encoding="utf-8").splitlines()
                if p.strip() and not p.lstrip().startswith("#")] if ignore_path.exists() else []
    copied = []
    for word, args in instructions:
        if word in ("COPY", "ADD") and "--from" not in args:
            sources = [a for a in args.split() if not a.startswith("--")][:-1]
            copied += [s.rstrip("/") for s in sources]
    for source in copied:
        if not (repo / source).exists():
            problems.append(f"Dockerfile: COPY {source}: no such file in the repository")
        elif not dockerignore_allows(patterns, source):
            problems.append(f".dockerignore excludes {source}, which the Dockerfile copies")
    for package in packaged_top_levels(repo):
        if package not in copied:
            problems.append(f"Dockerfile: pyproject.toml packages {package}*, but the Dockerfile does not COPY {package}/")
    for unwanted in (".venv", ".git", "var", "tests"):
        if dockerignore_allows(patterns, unwanted):
            problems.append(f".dockerignore lets {unwanted}/ into the build context")
    return problems


def all_problems(repo: Path = REPO) -> list[str]:
    problems = compose_problems(load_compose(repo))
    problems += docker_problems(repo)
    return problems


def main(argv: list[str]) -> int:
    repo = Path(argv[0]).resolve() if argv else REPO
    sys.path.insert(0, str(repo))
    problems = all_problems(repo)
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    if problems:
        return 1
    print("compose/Dockerfile project checks: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
