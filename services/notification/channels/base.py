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

Batches. The service hands a channel several messages at once: ``deliver_batch(messages, checkpoint)``, one result
per message, in order. A channel that can hand several messages over on one connection (e-mail: one SMTP session)
overrides it and calls the batch checkpoint ONCE, with the keys of every message it has not finished, right before
its first point of no return; the service records all of them "handed over" in one statement and answers the keys
this sender still owns. The channel then completes only those, and may pass later messages' points of no return
without asking again: a sender that dies mid-batch leaves every message of that checkpoint in doubt (up to the
batch size, AQ_DELIVERY_HANDOVER_BATCH), which is the price of one statement instead of one per message. A channel
that only implements ``deliver`` keeps exactly the one-message protocol: the service hands it one message at a time
(``hands_over_batches``), and the default ``deliver_batch`` calls ``deliver`` for each message it is given, each
with a checkpoint of its own.

Settings. Each channel documents its settings in ``SETTINGS`` (name -> description). The service reads them from
``AQ_CHANNEL_<NAME>_<SETTING>`` environment variables (e.g. ``AQ_CHANNEL_SMS_URL``) or the ``CHANNELS`` section of
its configuration, so adding a channel is one module and one entry point, nothing else. Every channel also takes
``rate_per_minute`` (the service's per-channel rate limit).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Collection, Literal, Mapping, Sequence

from services.notification.domain.redact import redact

log = logging.getLogger(__name__)

SENT = "sent"
FAILED_TEMPORARY = "failed_temporary"   # the same message may go through later (server busy, network down)
FAILED_PERMANENT = "failed_permanent"   # retrying this message cannot help (address refused, no address)
ABANDONED = "abandoned"                 # not sent: this sender lost its claim before the point of no return
DeliveryStatus = Literal["sent", "failed_temporary", "failed_permanent", "abandoned"]

Checkpoint = Callable[[], bool]
# The keys of the messages about to pass their point of no return -> the keys this sender still owns (now durably
# "handed over"); the others must not be sent.
BatchCheckpoint = Callable[[Sequence[str]], Collection[str]]

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

    def deliver_batch(self, messages: Sequence[OutgoingMessage],
                      checkpoint: BatchCheckpoint | None = None) -> list[DeliveryResult]:
        """Deliver several messages, one result each, in order. This default hands them over one by one through
        ``deliver``, each passing a checkpoint of its own (see the module's docstring)."""
        return [self._deliver_alone(message, checkpoint) for message in messages]

    @classmethod
    def hands_over_batches(cls) -> bool:
        """Whether the channel hands several messages over at once (it overrides ``deliver_batch``). The service gives
        any other channel its notices one at a time, each recorded as soon as its answer is in: a batch would only
        hold back the outcomes of a slow provider's messages, past their leases."""
        return cls.deliver_batch is not Channel.deliver_batch

    def _deliver_alone(self, message: OutgoingMessage, checkpoint: BatchCheckpoint | None) -> DeliveryResult:
        handed_over = False

        def own_checkpoint() -> bool:
            nonlocal handed_over
            handed_over = checkpoint is None or message.key in checkpoint([message.key])
            return handed_over
        try:
            return self.deliver(message, own_checkpoint)
        except Exception as error:
            # A channel's bug must neither lose this notice (it is tried again) nor take the rest of the batch with
            # it; after the hand-over the provider may have it, so it is in doubt like any lost answer.
            log.exception("channel %s failed on notice %s", self.name, message.key)
            return DeliveryResult(FAILED_TEMPORARY, f"{type(error).__name__}: {redact(str(error))}",
                                  in_doubt=handed_over)

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
