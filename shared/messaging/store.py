"""``Store``: the nameko dependency that gives a worker its service's database as units of work.

    with self.store.handling(event) as uow:     # in an event handler: marks the event processed
        handlers.evaluate(uow, event["data"])
    with self.store.command(correlation_id) as uow:   # in an RPC command that starts a cascade
        ...

After a worker finishes, the relay is woken so announced events leave at once.
"""
from __future__ import annotations

import os

from nameko.extensions import DependencyProvider

from shared import config
from shared.db import engine_for
from shared.migrations import upgrade
from shared.messaging.relay import OutboxRelay
from shared.messaging.unit_of_work import UnitOfWork


class StoreAccess:
    def __init__(self, engine, service, tables, handler):
        self.engine, self.service, self.tables, self.handler = engine, service, tables, handler

    def handling(self, event: dict) -> UnitOfWork:
        return UnitOfWork(self.engine, self.service, self.tables, handling=event, handler=self.handler)

    def command(self, correlation_id: str | None = None) -> UnitOfWork:
        return UnitOfWork(self.engine, self.service, self.tables, correlation_id=correlation_id)


class Store(DependencyProvider):
    relay = OutboxRelay()

    def __init__(self, messaging_tables):
        self.tables = messaging_tables

    def setup(self):
        service = self.container.service_name
        url = self.container.config.get("DATABASE_URL") or config.database_url(service)
        if os.environ.get("AQ_MIGRATE_ON_START", "1") != "0":
            # Deployments that migrate in a separate job (deploy/) set AQ_MIGRATE_ON_START=0.
            upgrade(service, url)
        self.engine = engine_for(service, url)
        self.relay.bind_store(self.engine, self.tables)

    def get_dependency(self, worker_ctx):
        return StoreAccess(self.engine, self.container.service_name, self.tables,
                           worker_ctx.entrypoint.method_name)

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        if exc_info is None:
            self.relay.wake()
