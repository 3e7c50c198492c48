"""Alembic environment of the advising service."""
from services.advising.tables import metadata
from shared.migrations import run_env

run_env(metadata)
