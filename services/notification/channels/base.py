"""What every notification channel is: a name, ``deliver`` and ``health``, built from its settings.

A channel knows how to hand one rendered message to one address. It does not decide who is told (domain/recipients)
or on which channels (domain/routing), and it never retries: it says whether retrying could help
(``failed_temporary``) or not (``failed_permanent``), and the service keeps the delivery and tries again later.

Exactly-once hand-over. ``deliver(message, checkpoint)``: right before the point of no return — the moment after
which the provider may have the message even if we never hear back (the SMTP end-of-data ".", the HTTP request) —
a channel calls ``self.pass_point_of_no_return(checkpoint)``. The service's checkpoint records "handed over" durably
and says whether this sender still owns the delivery; if not, the channel stops WITHOUT sending (``abandoned``).
A sender that dies before its checkpoint sent nothing, so its delivery is simply tried again. A sender that dies
after it leaves the delivery in doubt: it is sent again only by a channel whose provider recognises a repeat
(``idempotent``: the SMS gateway with client reference ids); otherwise it is marked ``unconfirmed`` for staff.

Settings. Each channel documents its settings in ``SETTINGS`` (name -> description). The service reads them from
``AQ_CHANNEL_<NAME>_<SETTING>`` environment variables (e.g. ``AQ_CHANNEL_SMS_URL``) or the ``CHANNELS`` section of
its configuration, so adding a channel is one module and one entry point, nothing else. Every channel also takes
``rate_per_minute`` (the service's per-channel rate limit).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Literal, Mapping

SENT = "sent"
FAILED_TEMPORARY = "failed_temporary"   # the same message may go through later (server busy, network down)
FAILED_PERMANENT = "failed_permanent"   # retrying this message cannot help (address refused, no address)
ABANDONED = "abandoned"                 # not sent: this sender lost its claim before the point of no return
DeliveryStatus = Literal["sent", "failed_temporary", "failed_permanent", "abandoned"]

Checkpoint = Callable[[], bool]

COMMON_SETTINGS = {"rate_per_minute": "at most this many messages a minute per service instance (0: no limit)"}


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
    address: str | None = None   # the channel's address for the recipient (e-mail, phone); None for in-app
    short: str = ""              # the short text (SMS); empty: the subject
    recipient_kind: str = ""
    locale: str = "zh"


@dataclass(frozen=True)
class DeliveryResult:
    status: DeliveryStatus
    detail: str = ""
    reference: str | None = None    # what the provider knows the message by (Message-ID, gateway's message id)
    # The message was handed over and no answer came back (a timeout waiting for the reply): the provider may
    # have it. The service then sends it again only through an idempotent channel; otherwise it is unconfirmed.
    in_doubt: bool = False

    @property
    def sent(self) -> bool:
        return self.status == SENT


class Channel:
    """Base class of the plugins of the ``aq.notification_channels`` entry-point group."""
    name: ClassVar[str] = ""
    SETTINGS: ClassVar[dict[str, str]] = {}
    SECRET_SETTINGS: ClassVar[frozenset[str]] = frozenset()   # never shown by `aq notices channels`
    # Which contact field of the roster is this channel's address ("email", "phone"), None for none.
    address_field: ClassVar[str | None] = None
    # Whether a message without an address cannot be delivered at all (chat robots only use it to @mention).
    requires_address: ClassVar[bool] = True
    # Whether the provider recognises a repeated delivery key, so an in-doubt delivery may be sent again.
    idempotent: bool = False
    # The in-app inbox: delivering is writing the service's own inbox row, in the transaction of the outcome.
    inbox: ClassVar[bool] = False

    def __init__(self, settings: Mapping[str, Any] | None = None):
        self.settings = dict(settings or {})

    def deliver(self, message: OutgoingMessage, checkpoint: Checkpoint | None = None) -> DeliveryResult:
        raise NotImplementedError

    def health(self) -> bool:
        """Whether the channel can deliver now (for the service's health check); must not raise."""
        return True

    def describe(self) -> dict[str, Any]:
        """The channel's settings with secrets left out (for `aq notices channels`)."""
        shown = {}
        for key, value in sorted(self.settings.items()):
            if key in self.SECRET_SETTINGS or any(word in key for word in ("password", "secret", "token")):
                shown[key] = "***" if value else ""
            else:
                shown[key] = value
        return {"name": self.name, "idempotent": self.idempotent, "settings": shown}

    @staticmethod
    def pass_point_of_no_return(checkpoint: Checkpoint | None) -> bool:
        """Call right before the step after which the provider may have the message; False: stop, send nothing."""
        return checkpoint is None or bool(checkpoint())


def flag(value: Any, default: bool = False) -> bool:
    """A boolean setting from YAML or an environment variable ("1", "true", "yes", "on")."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")
