"""Alembic environment of the gateway."""
from services.gateway.tables import metadata
from shared.migrations import run_env

run_env(metadata)
