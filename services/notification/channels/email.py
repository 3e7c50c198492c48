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
  keep_sessions       idle sessions kept open for the next messages (default 8, the default delivery concurrency).

Exactly once: a message is handed over in two steps. Envelope and content go first; the checkpoint is passed
right before the final "." that ends the data — until the server has that, it must discard the message (RFC 5321
§4.1.1.4), so a sender that dies earlier sent nothing and the delivery is simply tried again. The Message-ID is
derived from the delivery key, so the rare repeat that remains (see docs/notifications.md) is recognisable.

Batches (``deliver_batch``): the service's messages go one after the other on ONE session, with ONE checkpoint for
the batch, passed right before the first final "."; the messages after it need none of their own. A sender that dies
after it leaves every message of the batch not yet recorded in doubt (AQ_DELIVERY_HANDOVER_BATCH bounds the batch).
When the server offers PIPELINING (RFC 2920), MAIL, RCPT and DATA go in one write, and behind each message's data
and "." goes the next message's envelope: one round trip a message instead of four. Every reply is still checked in
order, and a refused envelope is ended with RSET so the session carries on with the next message.

How failures are classified (the service retries temporary failures, gives up on permanent ones):
  * 4xx replies, lost connections, timeouts, refused connections: failed_temporary.
  * 5xx replies and refused recipients (with a 5xx code): failed_permanent — this message will never be accepted.
  * The server refusing US (greeting, HELO, login): failed_temporary. It says nothing about the message; once the
    server or our credentials are fixed the notice must still go out, not be written off.
"""
from __future__ import annotations

import base64
import hashlib
import os
import re
import smtplib
import socket
import ssl
import time
from contextlib import suppress
from dataclasses import dataclass, replace
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from smtplib import quoteaddr
from typing import Any, Mapping, Sequence
from urllib.parse import unquote, urlsplit

from services.notification.channels.base import (
    ABANDONED, FAILED_PERMANENT, FAILED_TEMPORARY, SENT, BatchCheckpoint, Channel, Checkpoint, DeliveryResult,
    OutgoingMessage, flag,
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
        "keep_sessions": "idle sessions kept open for the next messages (default 8)",
    }
    SECRET_SETTINGS = frozenset({"password", "smtp_url"})

    def __init__(self, settings: Mapping[str, Any] | None = None):
        super().__init__(settings)
        # Idle SMTP sessions kept for the next message: connecting, EHLO and QUIT cost more than sending a
        # notice, and an upload can send thousands. A session is reused only after a clean delivery.
        self._idle: list[smtplib.SMTP] = []
        self.keep_sessions = int(self.settings.get("keep_sessions", 8))
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
        self.envelope_from = address
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
        benchmarks/README.md). Headers that need it are RFC 2047-encoded (``_header``); the tests parse what
        arrives with the email package (tests/unit/notification/test_email_compose.py)."""
        for value in (self.sender, message.address, message.subject):
            if "\r" in value or "\n" in value:
                raise ValueError("Header values may not contain linefeed or carriage return characters")
        boundary = f"=_aq_{os.urandom(16).hex()}"     # "=_" never occurs in base64 parts
        head = (f"From: {self._from_header}\r\n"
                f"To: {_header(message.address, 'To')}\r\n"
                f"Subject: {_header(message.subject, 'Subject')}\r\n"
                f"Date: {_date()}\r\n"
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
        """One message: a batch of one, whose checkpoint is this message's own."""
        def batch_checkpoint(keys):
            return keys if self.pass_point_of_no_return(checkpoint) else ()
        return self.deliver_batch([message], batch_checkpoint)[0]

    def deliver_batch(self, messages: Sequence[OutgoingMessage],
                      checkpoint: BatchCheckpoint | None = None) -> list[DeliveryResult]:
        """The messages one after the other on ONE session, with one checkpoint: right before the first final "."
        (see the module's docstring)."""
        results: list[DeliveryResult | None] = [None] * len(messages)
        wire: dict[int, tuple[tuple[bytes, ...], bytes]] = {}
        for index, message in enumerate(messages):
            prepared = self._prepare(message)
            if isinstance(prepared, DeliveryResult):
                results[index] = prepared
            else:
                wire[index] = prepared
        if wire:
            _Transfer(self, messages, wire, results, checkpoint).run()
        return results      # every entry is set by now

    def _prepare(self, message: OutgoingMessage) -> tuple[tuple[bytes, ...], bytes] | DeliveryResult:
        """(the envelope's command lines MAIL, RCPT, DATA; the dot-stuffed data without its final "."), or why the
        message cannot go."""
        if not message.address:
            return DeliveryResult(FAILED_PERMANENT, f"no e-mail address for {message.recipient_id}")
        try:
            data = _dot_stuffed(self.compose(message))
        except (ValueError, TypeError) as error:      # e.g. a line break in the address: no retry can fix it
            return DeliveryResult(FAILED_PERMANENT, f"cannot compose the message: {redact(str(error))}")
        try:
            envelope = (f"MAIL FROM:{_quoted(self.envelope_from)}\r\n".encode("ascii"),
                        f"RCPT TO:{_quoted(message.address)}\r\n".encode("ascii"), b"DATA\r\n")
        except UnicodeError as error:                  # an address SMTP cannot carry: never will
            return DeliveryResult(FAILED_PERMANENT,
                                  f"address {mask(message.address)} cannot be sent: {type(error).__name__}")
        return envelope, data

    def _release(self, smtp: smtplib.SMTP | None, clean: bool) -> None:
        """Keep a session that finished cleanly for the next messages; end any other."""
        if smtp is None or smtp.sock is None:          # never opened, or closed already (abandoned, broken)
            return
        if clean and len(self._idle) < self.keep_sessions:
            smtp.aq_idle_since = time.monotonic()
            self._idle.append(smtp)
            return
        # Every message is accepted or refused at this point; a failing QUIT changes nothing.
        with suppress(Exception):
            smtp.quit()
        smtp.close()

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
        # Small writes that wait for no reply in between (the data and, after the checkpoint, its final "."); with
        # Nagle's algorithm the second then waits for the server's delayed ACK (~40 ms a message, which capped
        # delivery at ~25 e-mails a second per sender; benchmarks/README.md).
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


class _Transfer:
    """One batch of messages on one SMTP session, in order. Per message: the envelope (MAIL, RCPT, DATA: in one
    write when the server offers PIPELINING, RFC 2920), then the data and its final "." in one write — with the
    next message's envelope behind it when pipelining, so a message costs one round trip. The first message to
    reach its final "." passes the checkpoint for itself and every message after it; those the sender no longer
    owns are abandoned. Remembers which message's "." is out unanswered, so a failure midway is told apart: that
    one is in doubt, those never completed are simply tried again."""

    def __init__(self, channel: EmailChannel, messages: Sequence[OutgoingMessage],
                 wire: dict[int, tuple[tuple[bytes, ...], bytes]], results: list[DeliveryResult | None],
                 checkpoint: BatchCheckpoint | None):
        self.channel = channel
        self.messages = messages
        self.wire = wire
        self.results = results
        self.checkpoint = checkpoint
        self.checkpoint_passed = False
        self.awaiting: int | None = None        # the message whose final "." went out and whose reply has not come

    def run(self) -> None:
        smtp, clean = None, False
        try:
            smtp = self.channel._session()
            smtp.ehlo_or_helo_if_needed()
            clean = self._exchange(smtp, smtp.does_esmtp and smtp.has_extn("pipelining"))
        except (smtplib.SMTPConnectError, smtplib.SMTPHeloError, smtplib.SMTPAuthenticationError) as error:
            self._fail_rest(DeliveryResult(
                FAILED_TEMPORARY, f"server refused the session: {error.smtp_code} {redact(_text(error.smtp_error))}"))
        except smtplib.SMTPResponseException as error:
            self._fail_rest(_by_code(error.smtp_code, error.smtp_error, "message refused"))
        except (smtplib.SMTPException, OSError) as error:       # disconnected, refused connection, timeout, TLS
            what = f"{type(error).__name__}: {redact(str(error))}"
            if self.awaiting is not None:
                # The server has that whole message and we never heard whether it took it.
                self.results[self.awaiting] = DeliveryResult(FAILED_TEMPORARY, f"no reply after the data: {what}",
                                                             in_doubt=True)
            self._fail_rest(DeliveryResult(FAILED_TEMPORARY, what))
        finally:
            self.channel._release(smtp, clean)

    def _exchange(self, smtp: smtplib.SMTP, pipelining: bool) -> bool:
        """Every message handed over or refused; False when the session was given up (a message abandoned)."""
        order = list(self.wire)
        queued = None                  # the message whose envelope went out behind the previous data
        for position, index in enumerate(order):
            if self.results[index] is not None:          # abandoned at the checkpoint
                continue
            envelope, data = self.wire[index]
            replies = self._envelope(smtp, envelope, pipelining, already_sent=queued == index)
            refusal = _refusal(replies, self.messages[index].address)
            if refusal is not None:
                self.results[index] = refusal
                self._reset(smtp, replies)
                continue
            if not self.checkpoint_passed:
                smtp.send(data)
                try:
                    owned = self._pass_checkpoint(order[position:])
                except BaseException:
                    smtp.close()                         # no QUIT in the middle of the data: it would be data
                    raise
                if not owned:
                    smtp.close()                         # without the final "." the server discards what it has
                    return False
                tail = b".\r\n"
            else:
                tail = data + b".\r\n"
            queued = self._next(order, position) if pipelining else None
            if queued is not None:
                tail += b"".join(self.wire[queued][0])
            smtp.send(tail)
            self.awaiting = index
            code, reply = smtp.getreply()
            self.awaiting = None
            self.results[index] = self._accepted(index) if code == 250 else _by_code(code, reply, "message refused")
        return True

    @staticmethod
    def _envelope(smtp: smtplib.SMTP, envelope: tuple[bytes, ...], pipelining: bool,
                  already_sent: bool) -> list[tuple[int, bytes]]:
        """The replies to MAIL, RCPT and DATA; without pipelining each command waits for the one before to pass."""
        if pipelining:
            if not already_sent:
                smtp.send(b"".join(envelope))
            return [smtp.getreply() for _ in envelope]      # RFC 2920: check every reply of the group
        replies = []
        for command, wanted in zip(envelope, _ENVELOPE_WANTED):
            smtp.send(command)
            replies.append(smtp.getreply())
            if replies[-1][0] not in wanted:
                break
        return replies

    @staticmethod
    def _reset(smtp: smtplib.SMTP, replies: list[tuple[int, bytes]]) -> None:
        """End a refused transaction so the session can carry the next message."""
        if len(replies) == 3 and replies[2][0] == 354:
            # Pipelined DATA accepted although the recipient was refused: a lone "." ends the empty message
            # (RFC 2920 §3.1); with no recipient it goes nowhere.
            smtp.send(b".\r\n")
            smtp.getreply()
        code, reply = smtp.docmd("RSET")
        if code != 250:
            raise smtplib.SMTPException(f"the server did not reset the session after a refusal: {code} "
                                        f"{redact(_text(reply))}")

    def _pass_checkpoint(self, remaining: list[int]) -> bool:
        """The batch's one checkpoint, for the first message at its final "." and every message after it. Those
        this sender no longer owns are abandoned; False when the first is among them."""
        self.checkpoint_passed = True
        keys = [self.messages[i].key for i in remaining if self.results[i] is None]
        held = set(keys) if self.checkpoint is None else set(self.checkpoint(keys))
        for i in remaining:
            if self.results[i] is None and self.messages[i].key not in held:
                self.results[i] = DeliveryResult(ABANDONED, "the delivery was taken over before it was handed to "
                                                            "the server")
        if self.messages[remaining[0]].key in held:
            return True
        self._fail_rest(DeliveryResult(FAILED_TEMPORARY, "not sent: the session was given up for a message that "
                                                         "another sender took over"))
        return False

    def _next(self, order: list[int], position: int) -> int | None:
        return next((i for i in order[position + 1:] if self.results[i] is None), None)

    def _accepted(self, index: int) -> DeliveryResult:
        server = self.channel.server
        message_id = self.channel.message_id(self.messages[index].key)
        return DeliveryResult(SENT, f"accepted by {server.host}:{server.port} as {message_id}", reference=message_id)

    def _fail_rest(self, result: DeliveryResult) -> None:
        for index in self.wire:
            if self.results[index] is None:
                self.results[index] = result


_ENVELOPE_WANTED = ((250,), (250, 251), (354,))       # what MAIL, RCPT and DATA are answered when all is well


def _refusal(replies: list[tuple[int, bytes]], address: str | None) -> DeliveryResult | None:
    """The first refusal among the replies to MAIL, RCPT and DATA; None when the server waits for the data."""
    for step, (code, reply) in enumerate(replies):
        if code not in _ENVELOPE_WANTED[step]:
            what = ("sender refused", f"recipient {mask(address)} refused", "data refused")[step]
            return _by_code(code, reply, what)
    return None


def _header(value: str, name: str) -> str:
    """A header's value as written: as it is when ASCII and short, else RFC 2047-encoded and folded."""
    if value.isascii():
        if len(value) + len(name) < 76:
            return value
        return Header(value, "us-ascii", header_name=name).encode(linesep="\r\n")
    return _encoded_words(value, name)


def _encoded_words(value: str, name: str) -> str:
    """``value`` as RFC 2047 encoded words (base64 of UTF-8), one per line, folded so that no line passes 76
    characters and no character is cut in two. What email.header.Header writes, at a fraction of its cost: its
    folding machinery was a tenth of the service's CPU per e-mail once the statements were batched (py-spy on
    benchmarks/notification_delivery.py)."""
    data = value.encode("utf-8")
    room = (76 - len(name) - 2 - 12) // 4 * 3          # first line: "Name: =?utf-8?b?...?="
    words, start = [], 0
    while len(data) - start > room:
        cut = start + room
        while data[cut] & 0xC0 == 0x80:                # a UTF-8 continuation byte: cut before its character
            cut -= 1
        words.append(data[start:cut])
        start, room = cut, (76 - 1 - 12) // 4 * 3      # further lines: " =?utf-8?b?...?="
    words.append(data[start:])
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(word).decode('ascii')}?=" for word in words)


def _quoted(address: str) -> str:
    """smtplib.quoteaddr, with its parse skipped for the plain addresses it would only put in angle brackets."""
    return f"<{address}>" if _PLAIN_ADDRESS.fullmatch(address) else quoteaddr(address)


_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+")


def _date() -> str:
    """The Date header: formatdate(localtime=True), written once a second."""
    now = int(time.time())
    if _date_written[0] != now:
        _date_written[:] = [now, formatdate(now, localtime=True)]
    return _date_written[1]


_date_written: list = [None, ""]


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _by_code(code: int, reply: bytes | str, what: str) -> DeliveryResult:
    # Only a 5xx reply is a final "no"; anything else (4xx, or a code smtplib could not read) may pass later.
    status = FAILED_PERMANENT if 500 <= code < 600 else FAILED_TEMPORARY
    return DeliveryResult(status, f"{what}: {code} {redact(_text(reply))}")


def _dot_stuffed(data: bytes) -> bytes:
    """The DATA payload without its terminator: lines starting with "." doubled, ending in CRLF (RFC 5321)."""
    if data.startswith(b".") or b"\n." in data:      # never in what compose writes: base64 has no "."
        data = re.sub(rb"(?m)^\.", b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"
