"""The in-app inbox: notices a user reads when signed in to the college's system.

The inbox lives in the notification service's OWN database, so there is nothing to send: the service stores the
inbox row in the same transaction in which it records this delivery as sent (one commit makes the notice both
readable and delivered, never one without the other). This channel therefore only confirms the hand-over.
"""
from __future__ import annotations

from services.notification.channels.base import SENT, Channel, DeliveryResult, OutgoingMessage


class InAppChannel(Channel):
    name = "in_app"

    def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        return DeliveryResult(SENT, f"in inbox of {message.recipient_id}")
