"""Alembic environment of the notification service."""
from services.notification.tables import metadata
from shared.migrations import run_env

run_env(metadata)
