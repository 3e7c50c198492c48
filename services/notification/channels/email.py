"""E-mail notices over SMTP: one multipart message (plain text + HTML) per recipient.

Settings (``AQ_CHANNEL_EMAIL_<SETTING>`` or the ``email`` section of the channel configuration):
  smtp_url            smtp://host:port (plain, e.g. the development mail sink), smtp+starttls://user:pass@host:587,
                      or smtps://user:pass@host:465 (TLS from the start). User and password are URL-encoded.
                      Default: AQ_SMTP_URL (smtp://127.0.0.1:8025).
  security            none | starttls | tls: overrides the URL's scheme
  username, password  log in with these (override the URL's user and password); no login without a user
  ca_file             a PEM file of certificate authorities to trust (a college's own CA); default: the system's
  verify              1 (default) to verify the server's certificate and name; 0 only for a test server
  from                the From header, e.g. "学院教务办公室 <jwb@college.example>" (required; default AQ_MAIL_FROM).
  timeout             seconds for connecting and for each SMTP reply (default 30).
  message_id_domain   right-hand side of Message-IDs (default: the domain of ``from``).
  deduplicates        1 only if the server drops a message whose Message-ID it already accepted (the development
                      mail sink can; some mail gateways do). Then a delivery left in doubt is sent again with the same
                      Message-ID; otherwise (default 0) it is marked unconfirmed for staff.

Exactly once: the message is handed over in two steps. Envelope and content go first; the checkpoint is passed
right before the final "." that ends the data — until the server has that, it must discard the message (RFC 5321
§4.1.1.4), so a sender that dies earlier sent nothing and the delivery is simply tried again. The Message-ID is
derived from the delivery key, so the rare repeat that remains (see docs/notifications.md) is recognisable.

How failures are classified (the service retries temporary failures, gives up on permanent ones):
  * 4xx replies, lost connections, timeouts, refused connections: failed_temporary.
  * 5xx replies and refused recipients (with a 5xx code): failed_permanent — this message will never be accepted.
  * The server refusing US (greeting, HELO, login): failed_temporary. It says nothing about the message; once the
    server or our credentials are fixed the notice must still go out, not be written off.
"""
from __future__ import annotations

import base64
import hashlib
import re
import smtplib
import socket
import ssl
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass, replace
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from typing import Any, Mapping
from urllib.parse import unquote, urlsplit

from services.notification.channels.base import (
    ABANDONED, FAILED_PERMANENT, FAILED_TEMPORARY, SENT, Channel, Checkpoint, DeliveryResult, OutgoingMessage, flag,
)
from services.notification.domain.redact import mask, redact

FRESH_SESSION_SECONDS = 2.0   # a session idle for less is reused without a NOOP first

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
    address_field = "email"
    SETTINGS = {
        "smtp_url": "smtp://host:port, smtp+starttls://user:pass@host:587 or smtps://user:pass@host:465",
        "security": "none | starttls | tls (overrides the URL's scheme)",
        "username": "log in as this user (overrides the URL's)", "password": "... with this password",
        "ca_file": "PEM file of certificate authorities to trust", "verify": "1 (default) to verify the certificate",
        "from": "the From header (required)", "timeout": "seconds per SMTP reply (default 30)",
        "message_id_domain": "right-hand side of Message-IDs (default: the From domain)",
        "deduplicates": "1 if the server drops a repeated Message-ID (default 0)",
    }
    SECRET_SETTINGS = frozenset({"password", "smtp_url"})

    def __init__(self, settings: Mapping[str, Any] | None = None):
        super().__init__(settings)
        # Idle SMTP sessions kept for the next message: connecting, EHLO and QUIT cost more than sending a
        # notice, and an upload can send thousands. A session is reused only after a clean delivery.
        self._idle: list[smtplib.SMTP] = []
        self.keep_sessions = int(self.settings.get("keep_sessions", 4))
        if not self.settings.get("from"):
            raise ValueError("the email channel needs a 'from' address")
        server = SmtpServer.parse(str(self.settings.get("smtp_url") or "smtp://127.0.0.1:8025"))
        if self.settings.get("security"):
            security = str(self.settings["security"]).lower()
            if security not in ("none", "starttls", "tls"):
                raise ValueError(f"email security must be none, starttls or tls: {security!r}")
            server = replace(server, security=security)
        if self.settings.get("username"):
            server = replace(server, username=str(self.settings["username"]),
                             password=str(self.settings.get("password") or ""))
        self.server = server
        self.verify = flag(self.settings.get("verify"), default=True)
        self.idempotent = flag(self.settings.get("deduplicates"))
        self.ca_file = self.settings.get("ca_file") or None
        self.sender = str(self.settings["from"])
        name, address = parseaddr(self.sender)
        self._from_header = formataddr((name, address), charset="utf-8") if name else _header(self.sender, "From")
        self.timeout = float(self.settings.get("timeout") or 30)
        sender_domain = parseaddr(self.sender)[1].rpartition("@")[2]
        self.message_id_domain = str(self.settings.get("message_id_domain") or sender_domain or "aq.invalid")

    def message_id(self, key: str) -> str:
        # Derived from the delivery key, not random: a notice sent twice (a retry after a lost reply) carries the
        # same Message-ID, so mail systems and people can recognise the duplicate.
        return f"<{hashlib.sha256(key.encode('utf-8')).hexdigest()[:40]}@{self.message_id_domain}>"

    def compose(self, message: OutgoingMessage) -> bytes:
        """The message as it goes on the wire (CRLF line ends): multipart/alternative with the plain text and the
        HTML, each base64-encoded, which keeps every line 7-bit so servers without 8BITMIME still take Chinese text.

        Written out directly rather than through the email package's generator, which folds every header through
        its Header machinery: that took longer than the SMTP exchange itself (~4 ms a message with EmailMessage,
        benchmarks/README.md). Headers that need it are RFC 2047-encoded with email.header; the tests parse what
        arrives with the email package (tests/unit/notification/test_email_channel.py)."""
        for value in (self.sender, message.address, message.subject):
            if "\r" in value or "\n" in value:
                raise ValueError("Header values may not contain linefeed or carriage return characters")
        boundary = f"=_aq_{uuid.uuid4().hex}"
        head = (f"From: {self._from_header}\r\n"
                f"To: {_header(message.address, 'To')}\r\n"
                f"Subject: {_header(message.subject, 'Subject')}\r\n"
                f"Date: {formatdate(localtime=True)}\r\n"
                f"Message-ID: {self.message_id(message.key)}\r\n"
                "Auto-Submitted: auto-generated\r\n"           # RFC 3834: no vacation auto-replies to notices
                "MIME-Version: 1.0\r\n"
                f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\n\r\n')
        parts = [head.encode("ascii")]
        for subtype, body in (("plain", message.text), ("html", message.html)):
            parts.append(f'--{boundary}\r\nContent-Type: text/{subtype}; charset="utf-8"\r\n'
                         "Content-Transfer-Encoding: base64\r\n\r\n".encode("ascii"))
            data = b"\n".join(body.encode("utf-8").splitlines()) + b"\n"   # lines as the email package writes them
            parts.append(base64.encodebytes(data).replace(b"\n", b"\r\n"))
        parts.append(f"--{boundary}--\r\n".encode("ascii"))
        return b"".join(parts)

    def deliver(self, message: OutgoingMessage, checkpoint: Checkpoint | None = None) -> DeliveryResult:
        if not message.address:
            return DeliveryResult(FAILED_PERMANENT, f"no e-mail address for {message.recipient_id}")
        try:
            data = self.compose(message)
        except (ValueError, TypeError) as error:      # e.g. a line break in the address: no retry can fix it
            return DeliveryResult(FAILED_PERMANENT, f"cannot compose the message: {redact(str(error))}")
        envelope_from = parseaddr(self.sender)[1]
        where = mask(message.address)
        smtp = None
        clean = False
        try:
            smtp = self._session()
            smtp.ehlo_or_helo_if_needed()
            code, reply = smtp.mail(envelope_from)
            if code != 250:
                return _by_code(code, reply, "sender refused")
            code, reply = smtp.rcpt(message.address)
            if code not in (250, 251):
                return _by_code(code, reply, f"recipient {where} refused")
            code, reply = smtp.docmd("DATA")
            if code != 354:
                return _by_code(code, reply, "data refused")
            smtp.send(_dot_stuffed(data))
            if not self.pass_point_of_no_return(checkpoint):
                # Without the final "." the server discards what it has: nothing was sent.
                smtp.close()
                smtp = None
                return DeliveryResult(ABANDONED, "the delivery was taken over before it was handed to the server")
            smtp.send(b".\r\n")
            try:
                code, reply = smtp.getreply()
            except (smtplib.SMTPException, OSError) as error:
                # The server has the whole message and we never heard whether it took it.
                return DeliveryResult(FAILED_TEMPORARY, f"no reply after the data: {type(error).__name__}: "
                                                        f"{redact(str(error))}", in_doubt=True)
            if code != 250:
                return _by_code(code, reply, "message refused")
            clean = True
        except (smtplib.SMTPConnectError, smtplib.SMTPHeloError, smtplib.SMTPAuthenticationError) as error:
            return DeliveryResult(FAILED_TEMPORARY,
                                  f"server refused the session: {error.smtp_code} {redact(_text(error.smtp_error))}")
        except smtplib.SMTPResponseException as error:
            return _by_code(error.smtp_code, error.smtp_error, "message refused")
        except (smtplib.SMTPException, OSError) as error:       # disconnected, refused connection, timeout, TLS
            return DeliveryResult(FAILED_TEMPORARY, f"{type(error).__name__}: {redact(str(error))}")
        except UnicodeError as error:                           # an address smtplib cannot write: never will
            return DeliveryResult(FAILED_PERMANENT, f"address {where} cannot be sent: {type(error).__name__}")
        finally:
            if smtp is not None and clean and len(self._idle) < self.keep_sessions:
                smtp.aq_idle_since = time.monotonic()
                self._idle.append(smtp)
            elif smtp is not None:
                # The message is already accepted (or refused) at this point; a failing QUIT changes nothing.
                with suppress(Exception):
                    smtp.quit()
                smtp.close()
        message_id = self.message_id(message.key)
        return DeliveryResult(SENT, f"accepted by {self.server.host}:{self.server.port} as {message_id}",
                              reference=message_id)

    def _session(self) -> smtplib.SMTP:
        """An idle session that still answers NOOP, or a new one. A session that finished a message a moment ago
        is taken without the NOOP round trip (servers keep idle sessions for minutes; RFC 5321 §4.5.3.2)."""
        while self._idle:
            smtp = self._idle.pop()
            if time.monotonic() - getattr(smtp, "aq_idle_since", 0.0) < FRESH_SESSION_SECONDS:
                return smtp
            try:
                if smtp.noop()[0] == 250:
                    return smtp
            except (smtplib.SMTPException, OSError):
                pass
            with suppress(Exception):
                smtp.close()
        return self._connect()

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

    def _tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.ca_file)
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _connect(self) -> smtplib.SMTP:
        server = self.server
        if server.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=self.timeout,
                                                  context=self._tls())
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
        # The message and its final "." go out as two writes with a checkpoint between them; with Nagle's algorithm
        # the "." then waits for the server's delayed ACK (~40 ms a message, which capped delivery at ~25 e-mails a
        # second per sender; benchmarks/README.md).
        with suppress(OSError):
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            if server.security == "starttls":
                smtp.starttls(context=self._tls())
            if server.username:
                smtp.login(server.username, server.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp


def _header(value: str, name: str) -> str:
    """A header's value as written: as it is when ASCII and short, else RFC 2047-encoded and folded."""
    if value.isascii() and len(value) + len(name) < 76:
        return value
    return Header(value, "utf-8" if not value.isascii() else "us-ascii", header_name=name).encode(linesep="\r\n")


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _by_code(code: int, reply: bytes | str, what: str) -> DeliveryResult:
    # Only a 5xx reply is a final "no"; anything else (4xx, or a code smtplib could not read) may pass later.
    status = FAILED_PERMANENT if 500 <= code < 600 else FAILED_TEMPORARY
    return DeliveryResult(status, f"{what}: {code} {redact(_text(reply))}")


def _dot_stuffed(data: bytes) -> bytes:
    """The DATA payload without its terminator: lines starting with "." doubled, ending in CRLF (RFC 5321)."""
    data = re.sub(rb"(?m)^\.", b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"
