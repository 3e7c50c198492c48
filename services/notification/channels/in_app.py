"""The in-app inbox: notices a user reads when signed in to the college's system.

The inbox lives in the notification service's OWN database, so there is nothing to send: the service stores the
inbox row in the same transaction in which it records this delivery as sent (one commit makes the notice both
readable and delivered, never one without the other). This channel therefore only confirms the hand-over, and an
in-app delivery is never in doubt. No settings.
"""
from __future__ import annotations

from services.notification.channels.base import SENT, Channel, Checkpoint, DeliveryResult, OutgoingMessage


class InAppChannel(Channel):
    name = "in_app"
    address_field = None
    requires_address = False
    idempotent = True
    inbox = True

    def deliver(self, message: OutgoingMessage, checkpoint: Checkpoint | None = None) -> DeliveryResult:
        return DeliveryResult(SENT, f"in inbox of {message.recipient_id}", reference=message.key)
