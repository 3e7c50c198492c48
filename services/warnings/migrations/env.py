"""Alembic environment of the warnings service."""
from services.warnings.tables import metadata
from shared.migrations import run_env

run_env(metadata)
