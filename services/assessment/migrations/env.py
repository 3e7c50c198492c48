"""Alembic environment of the assessment service."""
from services.assessment.tables import metadata
from shared.migrations import run_env

run_env(metadata)
