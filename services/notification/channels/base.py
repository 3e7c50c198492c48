"""What every notification channel is: a name, ``deliver`` and ``health``, built from its settings.

A channel knows how to hand one rendered message to one address. It does not decide who is told (domain/recipients)
or on which channels (domain/channels_by_recipient), and it never retries: it says whether retrying could help
(``failed_temporary``) or not (``failed_permanent``), and the service keeps the delivery and tries again later.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Mapping

SENT = "sent"
FAILED_TEMPORARY = "failed_temporary"   # the same message may go through later (server busy, network down)
FAILED_PERMANENT = "failed_permanent"   # retrying this message cannot help (address refused, no address)
DeliveryStatus = Literal["sent", "failed_temporary", "failed_permanent"]


@dataclass(frozen=True)
class OutgoingMessage:
    """One rendered notice on its way to one recipient over one channel.

    ``key`` is the delivery key: stable for (notice cause, recipient, channel), so a delivery attempted twice
    carries the same key and the far end can recognise the duplicate.
    """
    key: str
    recipient_id: str
    subject: str
    text: str
    html: str
    address: str | None = None   # the channel's address for the recipient (an e-mail address); None for in-app


@dataclass(frozen=True)
class DeliveryResult:
    status: DeliveryStatus
    detail: str = ""

    @property
    def sent(self) -> bool:
        return self.status == SENT


class Channel:
    """Base class of the plugins of the ``aq.notification_channels`` entry-point group."""
    name: ClassVar[str] = ""

    def __init__(self, settings: Mapping[str, Any] | None = None):
        self.settings = dict(settings or {})

    def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        raise NotImplementedError

    def health(self) -> bool:
        """Whether the channel can deliver now (for the service's health check); must not raise."""
        return True
