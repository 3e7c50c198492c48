"""Alembic environment of the grades service."""
from services.grades.tables import metadata
from shared.migrations import run_env

run_env(metadata)
