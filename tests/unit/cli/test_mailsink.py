"""The development mail sink (aq_cli/mailsink.py): the SMTP conversation, what it keeps, and the Message-ID
deduplication notification's `deduplicates` e-mail setting relies on.

Protocol details are driven through the session object with a recording transport (every way a read can split the
data); the sink as `aq up` runs it is started as its own process and spoken to with smtplib and with raw pipelined
commands."""
from __future__ import annotations

import os
import smtplib
import socket
import subprocess
import sys
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from aq_cli import mailsink
from aq_cli.mailsink import Mailbox, SmtpSession
from tests.support.cluster import REPO, free_port

MESSAGE = (b"From: jwb@college.example.edu.cn\r\nTo: s1@stu.example.edu.cn\r\nSubject: test\r\n"
           b"Message-ID: <abc@college.example.edu.cn>\r\n\r\n"
           b"first line\r\n.a line that starts with a dot\r\n.\r\n..\r\nlast line\r\n")


def stuffed(content: bytes) -> bytes:
    """What a client sends after the 354 (RFC 5321 §4.5.2), terminator included."""
    lines = content.split(b"\r\n")[:-1]
    return b"".join((b"." + line if line.startswith(b".") else line) + b"\r\n" for line in lines) + b".\r\n"


def with_id(message_id: str, body: str = "hello") -> bytes:
    return f"Subject: x\r\nMessage-ID: {message_id}\r\n\r\n{body}\r\n".encode()


class Recorder:
    """A transport that keeps what the session writes."""

    def __init__(self):
        self.written = bytearray()
        self.closed = False

    def write(self, data):
        self.written += data

    def is_closing(self):
        return self.closed

    def close(self):
        self.closed = True

    def replies(self) -> list[str]:
        """Reply lines since the last call, the greeting left out."""
        lines = self.written.decode().split("\r\n")[:-1]
        self.written.clear()
        return [line for line in lines if not line.startswith("220 ")]


@pytest.fixture
def session(tmp_path):
    smtp = SmtpSession(Mailbox(tmp_path / "mail"), "sink.test")
    transport = Recorder()
    smtp.connection_made(transport)
    return smtp, transport


def kept(folder: Path) -> list[bytes]:
    return [path.read_bytes() for path in sorted(folder.glob("*.eml"))]


# --- the conversation ------------------------------------------------------------------------------------------

def test_ehlo_advertises_pipelining_and_8bitmime(session):
    smtp, transport = session
    smtp.data_received(b"EHLO client.test\r\n")
    assert transport.replies() == ["250-sink.test", "250-PIPELINING", "250-8BITMIME",
                                   f"250 SIZE {mailsink.MAX_MESSAGE_BYTES}"]


def test_a_pipelined_transaction_in_one_read_is_answered_in_order_and_kept_unstuffed(session, tmp_path):
    smtp, transport = session
    smtp.data_received(b"EHLO client.test\r\nMAIL FROM:<jwb@college.example.edu.cn>\r\n"
                       b"RCPT TO:<s1@stu.example.edu.cn>\r\nRCPT TO:<s2@stu.example.edu.cn>\r\nDATA\r\n")
    assert [reply[:3] for reply in transport.replies()] == ["250"] * 4 + ["250", "250", "250", "354"]
    # The content, its end and the next commands in one read (RFC 2920 allows commands after the final ".").
    smtp.data_received(stuffed(MESSAGE) + b"RSET\r\nNOOP\r\nQUIT\r\n")
    assert transport.replies() == ["250 Message accepted for delivery", "250 OK", "250 OK", "221 Bye"]
    assert transport.closed
    assert kept(tmp_path / "mail") == [MESSAGE]


@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_data_split_into_reads_of_any_size_is_kept_whole(session, tmp_path, size):
    smtp, transport = session
    smtp.data_received(b"HELO client.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n")
    transport.replies()
    wire = stuffed(MESSAGE) + b"MAIL FROM:<a@x.test>\r\n"
    for start in range(0, len(wire), size):
        smtp.data_received(wire[start:start + size])
    assert transport.replies() == ["250 Message accepted for delivery", "250 OK"]
    assert kept(tmp_path / "mail") == [MESSAGE]


def test_an_empty_message_and_one_that_is_only_a_dot_line(session, tmp_path):
    smtp, transport = session
    smtp.data_received(b"HELO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n")
    smtp.data_received(b".")
    smtp.data_received(b"\r\n")
    smtp.data_received(b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n..\r\n.\r\n")
    assert [reply[:3] for reply in transport.replies()] == ["250", "250", "250", "354", "250",
                                                            "250", "250", "354", "250"]
    assert sorted(kept(tmp_path / "mail")) == [b"", b".\r\n"]


@pytest.mark.parametrize("commands, last_reply", [
    (b"MAIL FROM:<a@x.test>\r\n", "503 Error: send HELO first"),
    (b"HELO c\r\nRCPT TO:<b@x.test>\r\n", "503 Error: need MAIL command"),
    (b"HELO c\r\nMAIL FROM:<a@x.test>\r\nDATA\r\n", "503 Error: need RCPT command"),
    (b"HELO c\r\nMAIL FROM:<a@x.test>\r\nMAIL FROM:<a@x.test>\r\n", "503 Error: nested MAIL command"),
    (b"HELO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nRSET\r\nDATA\r\n", "503 Error: need RCPT command"),
    (b"HELO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA now\r\n", "501 Syntax: DATA"),
    (b"HELO c\r\nMAIL FROM:a@x.test\r\n", "501 Syntax: MAIL FROM:<address>"),
    (b"HELO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<>\r\n", "501 Syntax: RCPT TO:<address>"),
    (b"HELO c\r\nMAIL FROM:<a@x.test> BODY=8BITMIME\r\n",
     "555 MAIL FROM parameters not recognized or not implemented"),
    (b"EHLO c\r\nMAIL FROM:<a@x.test> BODY=8BITMIME SIZE=3000\r\n", "250 OK"),
    (b"EHLO c\r\nMAIL FROM:<a@x.test> SIZE=999999999999\r\n",
     "552 Message size exceeds fixed maximum message size"),
    (b"EHLO\r\n", "501 Syntax: EHLO hostname"),
    (b"HELO c\r\nAUTH PLAIN AGFAYg==\r\n", "502 Command not implemented"),
    (b"HELO c\r\nFROB\r\n", "500 Command not recognized"),
    (b"HELO c\r\nNOOP anything\r\n", "250 OK"),
    (b"X" * 3000 + b"\r\nNOOP\r\n", "250 OK"),
])
def test_reply_codes(session, commands, last_reply):
    smtp, transport = session
    smtp.data_received(commands)
    assert transport.replies()[-1] == last_reply


def test_a_command_line_too_long_is_refused_and_the_session_goes_on(session):
    smtp, transport = session
    smtp.data_received(b"X" * 3000)
    smtp.data_received(b"Y" * 10 + b"\r\nNOOP\r\n")
    assert transport.replies() == ["500 Line too long", "250 OK"]


def test_too_much_data_is_refused_after_its_end_and_nothing_is_kept(session, tmp_path, monkeypatch):
    monkeypatch.setattr(mailsink, "MAX_MESSAGE_BYTES", 100)
    smtp, transport = session
    smtp.data_received(b"HELO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n")
    for _ in range(10):
        smtp.data_received(b"0123456789" * 5 + b"\r\n")
    smtp.data_received(b".\r\nNOOP\r\n")
    assert transport.replies()[-2:] == ["552 Too much mail data", "250 OK"]
    assert kept(tmp_path / "mail") == []


# --- what is kept ----------------------------------------------------------------------------------------------

def test_a_repeated_message_id_is_accepted_and_dropped_also_after_a_restart(tmp_path):
    folder = tmp_path / "mail"
    mailbox = Mailbox(folder)
    assert mailbox.keep(with_id("<one@x.test>"))
    assert not mailbox.keep(with_id("<one@x.test>", body="a resend"))
    assert mailbox.keep(with_id("<two@x.test>"))
    restarted = Mailbox(folder)
    assert not restarted.keep(with_id("<two@x.test>"))
    assert not restarted.keep(b"message-id:   <one@x.test>  \r\n\r\nheader names are case-insensitive\r\n")
    assert restarted.keep(with_id("<three@x.test>"))
    assert kept(folder) == [with_id("<one@x.test>"), with_id("<two@x.test>"), with_id("<three@x.test>")]


def test_messages_without_a_message_id_are_all_kept(tmp_path):
    mailbox = Mailbox(tmp_path / "mail")
    body_only = b"Subject: x\r\n\r\nMessage-ID: <in-the-body@x.test>\r\n"
    assert all(mailbox.keep(body_only) for _ in range(3))
    assert len(kept(tmp_path / "mail")) == 3
    assert Mailbox(tmp_path / "mail").keep(body_only)


def test_a_message_left_half_written_by_a_stopped_sink_is_removed_and_not_remembered(tmp_path):
    folder = tmp_path / "mail"
    folder.mkdir()
    (folder / "1.000000-mdeadbeef.eml.tmp").write_bytes(b"Subject: x\r\nMess")
    Mailbox(folder)
    assert list(folder.iterdir()) == []


def test_the_markers_of_the_earlier_aiosmtpd_sink_still_deduplicate(tmp_path):
    import hashlib
    folder = tmp_path / "mail"
    (folder / ".seen").mkdir(parents=True)
    (folder / ".seen" / hashlib.sha256(b"<old@x.test>").hexdigest()).touch()
    assert not Mailbox(folder).keep(with_id("<old@x.test>"))


# --- the sink as `aq up` runs it -------------------------------------------------------------------------------

@pytest.fixture
def running_sink(tmp_path):
    """Start the sink process on a free port; returns (port, mail folder, restart)."""
    port = free_port()
    env = {**os.environ, "AQ_HOME": str(tmp_path)}
    processes = []

    def start():
        processes.append(subprocess.Popen([sys.executable, "-m", "aq_cli.main", "mailsink", "--port", str(port)],
                                          env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "the mail sink did not start listening"
                time.sleep(0.05)

    def restart():
        processes[-1].terminate()
        processes[-1].wait(timeout=30)
        start()

    start()
    yield port, tmp_path / "mail", restart
    for process in processes:
        process.terminate()
        process.wait(timeout=30)


def test_smtplib_delivers_and_a_resend_after_a_restart_is_dropped(running_sink):
    port, folder, restart = running_sink
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "jwb@college.example.edu.cn", "s1@x.test", "学业预警通知"
    message["Message-ID"] = "<notice-1@college.example.edu.cn>"
    message.set_content("第一行\n.以点开头的一行\n.\n")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("pipelining") and smtp.has_extn("8bitmime")
        assert smtp.send_message(message) == {}
        assert smtp.send_message(message) == {}           # accepted again: no error for the sender
    restart()
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        assert smtp.send_message(message) == {}
    [path] = folder.glob("*.eml")
    arrived = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert arrived["Subject"] == "学业预警通知"
    assert arrived.get_content().splitlines() == ["第一行", ".以点开头的一行", "."]


def test_raw_pipelined_commands_get_their_replies_in_order(running_sink):
    port, folder, _ = running_sink
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        reader = client.makefile("rb")

        def replies(count: int) -> list[bytes]:
            lines = []
            while len(lines) < count:
                line = reader.readline()
                assert line, "the sink closed the connection"
                if line[3:4] == b" ":
                    lines.append(line[:3])
            return lines

        assert replies(1) == [b"220"]
        client.sendall(b"EHLO bench.test\r\n")
        assert replies(1) == [b"250"]
        for n in range(3):
            client.sendall(f"MAIL FROM:<jwb@x.test>\r\nRCPT TO:<s{n}@x.test>\r\nDATA\r\n".encode())
            assert replies(3) == [b"250", b"250", b"354"]
            client.sendall(stuffed(with_id(f"<raw-{n}@x.test>")))
            assert replies(1) == [b"250"]
        client.sendall(b"MAIL FROM:<jwb@x.test>\r\nRCPT TO:<s@x.test>\r\nDATA\r\n")
        assert replies(3) == [b"250", b"250", b"354"]
        # A client that dies before the final "." hands nothing over (RFC 5321 §4.1.1.4).
        client.sendall(b"Subject: never finished\r\n\r\nhalf")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:     # the sink has seen that client go
        assert smtp.noop()[0] == 250
    assert sorted(kept(folder)) == sorted(with_id(f"<raw-{n}@x.test>") for n in range(3))
