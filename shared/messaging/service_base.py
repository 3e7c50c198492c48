"""RPC every service answers, whatever it does: its ledger for an upload, and its health."""
from nameko.rpc import rpc

from shared.messaging.ledger import ledger, outbox_backlog


class MessagingService:
    """Mixin for nameko service classes that have a ``store`` (shared.messaging.store.Store)."""

    @rpc
    def trace(self, correlation_id: str) -> dict:
        report = ledger(self.store.engine, self.store.tables, correlation_id)
        report.update(self.trace_details(correlation_id))
        return report

    def trace_details(self, correlation_id: str) -> dict:
        """What the service made for this upload (records, warnings, notices, tasks…); overridden."""
        return {}

    @rpc
    def health(self) -> dict:
        return {"service": self.name, "outbox_backlog": outbox_backlog(self.store.engine, self.store.tables)}
