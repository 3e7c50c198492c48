"""The roster service's nameko entrypoints: thin adapters over handlers and queries."""
from __future__ import annotations

import base64

from services.roster import handlers, queries, tables
from shared.files.report import FileRejected
from shared.messaging.rpc import rpc
from shared.messaging.service_base import MessagingService
from shared.messaging.store import Store


class RosterService(MessagingService):
    name = "roster"
    store = Store(tables.MESSAGING)

    @rpc
    def import_files(self, files: list[dict], imported_by: str = "unknown") -> dict:
        decoded = [(f["filename"], base64.b64decode(f["content_b64"])) for f in files]
        import_id = handlers.new_import_id()
        try:
            with self.store.command(import_id) as uow:
                result = handlers.import_roster(uow, decoded, imported_by, import_id)
        except FileRejected as rejected:
            return {"status": "rejected", "problems": rejected.to_dict()["problems"], "report": rejected.as_text()}
        return {"status": "accepted", **result}

    @rpc
    def lookup_students(self, student_ids: list[str]) -> dict:
        with self.store.engine.connect() as conn:
            return queries.lookup_students(conn, student_ids)

    @rpc
    def responsibles(self, student_ids: list[str]) -> dict:
        with self.store.engine.connect() as conn:
            return queries.responsibles(conn, student_ids)

    @rpc
    def classes(self) -> list[dict]:
        with self.store.engine.connect() as conn:
            return queries.classes(conn)

    @rpc
    def officers(self) -> dict:
        with self.store.engine.connect() as conn:
            return queries.Officers(conn).as_dict()

    @rpc
    def staff_member(self, staff_id: str) -> dict | None:
        with self.store.engine.connect() as conn:
            return queries.staff_member(conn, staff_id)

    @rpc
    def contacts(self, recipients: list[dict]) -> list[dict]:
        with self.store.engine.connect() as conn:
            return queries.contacts(conn, recipients)
