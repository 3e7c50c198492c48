"""RPC every service answers, whatever it does: its ledger for an upload, and its health."""
import os

from nameko.dependency_providers import Config
from nameko.timer import timer

from shared.messaging import metrics
from shared.messaging.rpc import rpc
from shared.messaging.health import check, write_heartbeat
from shared.messaging.ledger import ledger


class MessagingService:
    """Mixin for nameko service classes that have a ``store`` (shared.messaging.store.Store)."""

    config = Config()

    @rpc
    def trace(self, correlation_id: str, details: bool = True) -> dict:
        """The service's ledger for an upload (events emitted and consumed) and what it made for it. With
        ``details`` false only what says whether the cascade has settled here: what `aq wait` polls, which must not
        load the services it waits for (notification's details list every notice of the upload)."""
        report = ledger(self.store.engine, self.store.tables, correlation_id)
        report.update(self.trace_details(correlation_id) if details else self.trace_progress(correlation_id))
        return report

    def trace_details(self, correlation_id: str) -> dict:
        """What the service made for this upload (records, warnings, notices, tasks…); overridden."""
        return self.trace_progress(correlation_id)

    def trace_progress(self, correlation_id: str) -> dict:
        """Besides the ledger, what says whether the upload's cascade has settled here (notification: deliveries
        still pending); overridden."""
        return {}

    @rpc
    def health(self) -> dict:
        """The health of whichever instance answers (the CLI's `aq health` checks each local instance)."""
        return {"service": self.name, **self._verdict()}

    @timer(interval=float(os.environ.get("AQ_HEARTBEAT_SECONDS", "5")), eager=True)
    def heartbeat(self):
        verdict = self._verdict()
        if verdict["outbox"]:
            metrics.OUTBOX_UNPUBLISHED.labels(self.name).set(verdict["outbox"]["unpublished"])
            metrics.OUTBOX_LAG.labels(self.name).set(verdict["outbox"]["oldest_seconds"])
        metrics.serve(self.name)
        write_heartbeat(self.name, verdict)

    def _verdict(self) -> dict:
        return check(self.store.engine, self.store.tables, self.config["AMQP_URI"],
                     float(self.config.get("OUTBOX_STUCK_SECONDS", 60)))
