"""Alembic environment of the roster service."""
from services.roster.tables import metadata
from shared.migrations import run_env

run_env(metadata)
