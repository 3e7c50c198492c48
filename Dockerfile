# academic-quality: one image for every part; the command picks what a container runs.
#
#   aq service run <roster|grades|warnings|notification|advising|assessment>
#                          runs the service's Alembic migrations (unless AQ_MIGRATE_ON_START=0), then nameko
#   aq migrate [NAME...]   migrations only (e.g. a release job, with AQ_MIGRATE_ON_START=0 on the services)
#   aq mailsink ...        the development SMTP sink
#   aq <anything else>     the operator CLI (grades upload, trace, dlq list, ...)
#
# Configuration comes from the environment (AQ_AMQP_URI, AQ_DATABASE_URL, AQ_SMTP_URL, AQ_MAX_WORKERS,
# AQ_MIGRATE_ON_START, AQ_HOME, ...): see docker-compose.yml and deploy/compose/README.md.
# Validate this file and the compose file offline with deploy/check.sh.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AQ_HOME=/var/lib/aq

# tzdata: the college's clock (AQ_TIMEZONE, default Asia/Shanghai) needs the zone database, which newer
# Debian slim images no longer carry. Debian's own security updates decide its version.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends tzdata \
 && rm -rf /var/lib/apt/lists/*

# An unprivileged user (uid/gid 10001, used numerically below) owns the data directory (logs, the mail sink's mailbox).
RUN groupadd --system --gid 10001 aq \
 && useradd --system --uid 10001 --gid aq --home-dir /var/lib/aq --no-create-home --shell /usr/sbin/nologin aq \
 && install -d -o aq -g aq -m 0750 /var/lib/aq /var/lib/aq/mail

WORKDIR /usr/src/academic-quality

# The project's dependencies first, in their own layer: a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import subprocess, sys, tomllib; \
deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; \
subprocess.check_call([sys.executable, '-m', 'pip', 'install', '--no-cache-dir', *deps])"

# Then the project itself (.dockerignore lets only these into the build context).
COPY aq_cli/ aq_cli/
COPY contracts/ contracts/
COPY services/ services/
COPY shared/ shared/
RUN pip install --no-cache-dir . \
 && rm -rf build ./*.egg-info \
 && aq --help > /dev/null

USER 10001:10001
WORKDIR /var/lib/aq
ENTRYPOINT ["aq"]
CMD ["--help"]
