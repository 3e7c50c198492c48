"""The development mail sink alone: N e-mails of a notice's size (~3.5 kB, multipart text + HTML in base64, as the
e-mail channel composes them) sent through smtplib from this process over a few reused sessions, as the
notification service sends them; reports the CPU the sink process used per message (from /proc).

    .venv/bin/python -m benchmarks.mailsink                     # 3,000 messages over 4 sessions
    .venv/bin/python -m benchmarks.mailsink --messages 5000 --pipelined --record

--pipelined sends MAIL, RCPT and DATA in one write when the sink advertises PIPELINING (RFC 2920). Prints one JSON
line; --record writes benchmarks/results/mailsink.json.

User and system CPU are reported apart. Most of the system time is the filesystem creating one file per message, and
on ext4 that depends on the machine more than on the sink: right after many files were deleted (this benchmark's own
clean-up, a test suite's temporary folders) each new file costs the kernel up to ~1.5 ms, otherwise ~0.1 ms.
``--home /dev/shm`` (tmpfs) leaves that out and measures the sink itself.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.cascade import free_port
from benchmarks.probes import TICKS
from services.notification.channels.base import OutgoingMessage
from services.notification.channels.email import EmailChannel, _dot_stuffed

RESULTS = Path(__file__).resolve().parent / "results"

TEXT = ("张三同学：\n你在 2023-2024-1 学期的不及格学分累计已达到学院学业预警的黄色预警线，请及时与班主任联系，"
        "制定学习计划并按时参加补考。\n") * 5
HTML = "<p>张三同学：</p><p>你在 2023-2024-1 学期的不及格学分累计已达到黄色预警线，请及时与班主任联系。</p>" * 7


def messages(count: int) -> list[tuple[str, bytes]]:
    """(recipient, wire data with its dot-stuffing, without the final ".") for ``count`` distinct notices."""
    channel = EmailChannel({"from": "学院教务办公室 <jwb@college.example.edu.cn>"})
    out = []
    for i in range(count):
        address = f"s2101{i:05d}@stu.example.edu.cn"
        notice = OutgoingMessage(key=f"bench:{i}:{address}:email", recipient_id=f"2101{i:05d}",
                                 subject="学业预警通知：2023-2024-1 学期 黄色预警", text=TEXT, html=HTML,
                                 address=address)
        out.append((address, _dot_stuffed(channel.compose(notice))))
    return out


def send(port: int, batch: list[tuple[str, bytes]], pipelined: bool) -> None:
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=30)
    smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    smtp.ehlo()
    pipelined = pipelined and smtp.has_extn("pipelining")
    for address, data in batch:
        if pipelined:
            smtp.send(f"MAIL FROM:<jwb@college.example.edu.cn>\r\nRCPT TO:<{address}>\r\nDATA\r\n".encode())
            replies = [smtp.getreply()[0] for _ in range(3)]
        else:
            replies = [smtp.mail("jwb@college.example.edu.cn")[0], smtp.rcpt(address)[0], smtp.docmd("DATA")[0]]
        assert replies == [250, 250, 354], replies
        smtp.send(data)
        smtp.send(b".\r\n")                  # the channel's two writes: the final "." after its checkpoint
        code, reply = smtp.getreply()
        assert code == 250, (code, reply)
    smtp.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--pipelined", action="store_true")
    parser.add_argument("--home", default=None,
                        help="AQ_HOME of the sink (a new folder in it, removed afterwards); /dev/shm leaves the "
                             "filesystem's inode allocation out (see the module's docstring)")
    parser.add_argument("--record", action="store_true", help="write benchmarks/results/mailsink.json")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="aq-bench-sink-", dir=args.home))
    port = free_port()
    sink = subprocess.Popen([sys.executable, "-m", "aq_cli.main", "mailsink", "--port", str(port)],
                            env={**os.environ, "AQ_HOME": str(home)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        batches = [[] for _ in range(args.sessions)]
        for n, message in enumerate(messages(args.messages)):
            batches[n % args.sessions].append(message)
        size = sum(len(data) for _, data in messages(1))
        _wait_listening(port)
        cpu_before = _cpu(sink.pid)
        started = time.perf_counter()
        senders = [threading.Thread(target=send, args=(port, batch, args.pipelined)) for batch in batches]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        wall = time.perf_counter() - started
        user, system = (after - before for after, before in zip(_cpu(sink.pid), cpu_before))
        sink_cpu = user + system
        kept = len(list((home / "mail").glob("*.eml")))
        result = {"messages": args.messages, "kept": kept, "message_bytes": size, "sessions": args.sessions,
                  "pipelined": args.pipelined, "folder": str(home), "wall_seconds": round(wall, 2),
                  "sink_cpu_seconds": round(sink_cpu, 2), "sink_user_seconds": round(user, 2),
                  "sink_system_seconds": round(system, 2),
                  "sink_cpu_ms_per_message": round(sink_cpu / args.messages * 1000, 3),
                  "load_average": os.getloadavg(),
                  "command": ".venv/bin/python -m benchmarks.mailsink " + " ".join(sys.argv[1:])}
        print(json.dumps(result))
        if args.record:
            RESULTS.mkdir(parents=True, exist_ok=True)
            (RESULTS / "mailsink.json").write_text(json.dumps(result, indent=2) + "\n")
    finally:
        sink.terminate()
        sink.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)


def _cpu(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds the process used so far: writing files is system time."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICKS, int(fields[12]) / TICKS


def _wait_listening(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


if __name__ == "__main__":
    main()
