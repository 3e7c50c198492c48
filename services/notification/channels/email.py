"""E-mail notices over SMTP: one multipart message (plain text + HTML) per recipient.

Settings (the ``email`` section of the channel configuration):
  smtp_url            smtp://host:port (plain, e.g. the development mail sink), smtp+starttls://user:pass@host:587,
                      or smtps://user:pass@host:465 (TLS from the start). User and password are URL-encoded.
  from                the From header, e.g. "学院教务办公室 <jwb@college.example>" (required).
  timeout             seconds for connecting and for each SMTP reply (default 30).
  message_id_domain   right-hand side of Message-IDs (default: the domain of ``from``).

How failures are classified (the service retries temporary failures, gives up on permanent ones):
  * 4xx replies, lost connections, timeouts, refused connections: failed_temporary.
  * 5xx replies and refused recipients (with a 5xx code): failed_permanent — this message will never be accepted.
  * The server refusing US (greeting, HELO, login): failed_temporary. It says nothing about the message; once the
    server or our credentials are fixed the notice must still go out, not be written off.
"""
from __future__ import annotations

import hashlib
import smtplib
import ssl
from contextlib import suppress
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any, Mapping
from urllib.parse import unquote, urlsplit

from services.notification.channels.base import (
    FAILED_PERMANENT, FAILED_TEMPORARY, SENT, Channel, DeliveryResult, OutgoingMessage,
)

# scheme -> (default port, transport security)
_SCHEMES = {"smtp": (25, "none"), "smtp+starttls": (587, "starttls"), "smtps": (465, "tls")}


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: str                # none | starttls | tls
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> "SmtpServer":
        parts = urlsplit(url)
        if parts.scheme not in _SCHEMES or not parts.hostname:
            raise ValueError(f"smtp_url must look like smtp://host:port, smtp+starttls://user:pass@host:port "
                             f"or smtps://...: {url!r}")
        default_port, security = _SCHEMES[parts.scheme]
        return cls(parts.hostname, parts.port or default_port, security,
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None)


class EmailChannel(Channel):
    name = "email"

    def __init__(self, settings: Mapping[str, Any] | None = None):
        super().__init__(settings)
        if not self.settings.get("from"):
            raise ValueError("the email channel needs a 'from' address")
        self.server = SmtpServer.parse(str(self.settings.get("smtp_url", "smtp://127.0.0.1:8025")))
        self.sender = str(self.settings["from"])
        self.timeout = float(self.settings.get("timeout", 30))
        sender_domain = parseaddr(self.sender)[1].rpartition("@")[2]
        self.message_id_domain = str(self.settings.get("message_id_domain") or sender_domain or "aq.invalid")

    def message_id(self, key: str) -> str:
        # Derived from the delivery key, not random: a notice sent twice (a retry after a lost reply) carries the
        # same Message-ID, so mail systems and people can recognise the duplicate.
        return f"<{hashlib.sha256(key.encode('utf-8')).hexdigest()[:40]}@{self.message_id_domain}>"

    def compose(self, message: OutgoingMessage) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.address
        mail["Subject"] = message.subject                  # non-ASCII is RFC 2047-encoded by the email package
        mail["Date"] = formatdate(localtime=True)
        mail["Message-ID"] = self.message_id(message.key)
        mail["Auto-Submitted"] = "auto-generated"          # RFC 3834: no vacation auto-replies to notices
        # base64 keeps every line 7-bit, so servers without 8BITMIME still take Chinese text.
        mail.set_content(message.text, charset="utf-8", cte="base64")
        mail.add_alternative(message.html, subtype="html", charset="utf-8", cte="base64")
        return mail

    def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        if not message.address:
            return DeliveryResult(FAILED_PERMANENT, f"no e-mail address for {message.recipient_id}")
        try:
            mail = self.compose(message)
        except (ValueError, TypeError) as error:      # e.g. a line break in the address: no retry can fix it
            return DeliveryResult(FAILED_PERMANENT, f"cannot compose the message: {error}")
        envelope_from = parseaddr(self.sender)[1]
        smtp = None
        try:
            smtp = self._connect()
            smtp.send_message(mail, from_addr=envelope_from, to_addrs=[message.address])
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            return _by_code(code, reply, f"recipient {message.address} refused")
        except (smtplib.SMTPConnectError, smtplib.SMTPHeloError, smtplib.SMTPAuthenticationError) as error:
            return DeliveryResult(FAILED_TEMPORARY, f"server refused the session: {error.smtp_code} {_text(error.smtp_error)}")
        except smtplib.SMTPResponseException as error:          # sender refused, data refused
            return _by_code(error.smtp_code, error.smtp_error, "message refused")
        except (smtplib.SMTPException, OSError) as error:       # disconnected, refused connection, timeout, TLS
            return DeliveryResult(FAILED_TEMPORARY, f"{type(error).__name__}: {error}")
        finally:
            if smtp is not None:
                # The message is already accepted (or refused) at this point; a failing QUIT changes nothing.
                with suppress(Exception):
                    smtp.quit()
                smtp.close()
        return DeliveryResult(SENT, f"accepted by {self.server.host}:{self.server.port} as {mail['Message-ID']}")

    def health(self) -> bool:
        try:
            smtp = self._connect()
        except Exception:
            return False
        try:
            return smtp.noop()[0] == 250
        except Exception:
            return False
        finally:
            with suppress(Exception):
                smtp.quit()
            smtp.close()

    def _connect(self) -> smtplib.SMTP:
        server = self.server
        if server.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=self.timeout,
                                                  context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
        try:
            if server.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if server.username:
                smtp.login(server.username, server.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _by_code(code: int, reply: bytes | str, what: str) -> DeliveryResult:
    # Only a 5xx reply is a final "no"; anything else (4xx, or a code smtplib could not read) may pass later.
    status = FAILED_PERMANENT if 500 <= code < 600 else FAILED_TEMPORARY
    return DeliveryResult(status, f"{what}: {code} {_text(reply)}")
