"""Real local servers standing in for the providers, for the channel, service and end-to-end tests: an SMTP server
(aiosmtpd, optionally STARTTLS / TLS and login), an SMS gateway and the WeCom and DingTalk robot webhooks
(http.server). Each keeps what it accepted and can be scripted: refuse, fail, answer slowly, or hold a message
until the test releases it (to kill a sender mid-send)."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import ssl
import subprocess
import threading
import time
from collections import defaultdict
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote_plus, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """(certificate, key) for 127.0.0.1 / localhost, made with the openssl command."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class Hold:
    """A gate a stand-in stops at: ``reached`` is set when a message arrives, the server waits for ``release``."""

    def __init__(self):
        self.reached = threading.Event()
        self.release_event = threading.Event()

    def release(self):
        self.release_event.set()


# --- SMTP -------------------------------------------------------------------------------------------------------

class SmtpStandIn:
    """An SMTP server on a free port. ``rcpt_replies[address]`` / ``data_replies[address]``: replies to use (in
    order) instead of accepting; ``hold_rcpt[address]`` stops before accepting the recipient (before the client's
    point of no return); ``hold_after_data[address]`` keeps the message and then stops before answering the final
    "." (after it). ``pipelining``: advertise PIPELINING (RFC 2920) in the EHLO answer — aiosmtpd reads commands
    one by one from its buffer, so it serves pipelined clients, but does not say so by itself."""

    def __init__(self, tls_files: tuple[Path, Path] | None = None, implicit_tls: bool = False,
                 credentials: tuple[str, str] | None = None, pipelining: bool = False):
        self.port = free_port()
        self.pipelining = pipelining
        self.received: list[tuple[str, list[str], bytes]] = []
        self.rcpt_replies: dict[str, list[str]] = defaultdict(list)
        self.data_replies: dict[str, list[str]] = defaultdict(list)
        self.hold_rcpt: dict[str, Hold] = {}
        self.hold_after_data: dict[str, Hold] = {}
        kwargs = {}
        if tls_files:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*map(str, tls_files))
            kwargs.update(ssl_context=context) if implicit_tls else kwargs.update(tls_context=context,
                                                                                  require_starttls=True)
        if credentials:
            def authenticator(server, session, envelope, mechanism, auth_data):
                ok = (auth_data.login.decode(), auth_data.password.decode()) == credentials
                return AuthResult(success=ok, handled=False)
            kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=bool(tls_files))
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **kwargs)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        for hold in [*self.hold_rcpt.values(), *self.hold_after_data.values()]:
            hold.release()
        self.controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return responses[:-1] + ["250-PIPELINING", responses[-1]] if self.pipelining else responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.hold_rcpt:
            hold = self.hold_rcpt[address]
            hold.reached.set()
            await asyncio.get_running_loop().run_in_executor(None, hold.release_event.wait, 120)
        if self.rcpt_replies[address]:
            return self.rcpt_replies[address].pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        address = envelope.rcpt_tos[0]
        if self.data_replies[address]:
            return self.data_replies[address].pop(0)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        if address in self.hold_after_data:
            hold = self.hold_after_data[address]
            hold.reached.set()
            await asyncio.get_running_loop().run_in_executor(None, hold.release_event.wait, 120)
        return "250 Message accepted for delivery"

    def messages_to(self, address: str) -> list:
        return [message_from_bytes(raw, policy=policy.default) for _, tos, raw in self.received if address in tos]


# --- HTTP -------------------------------------------------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self._answer("GET")

    def do_POST(self):
        self._answer("POST")

    def _answer(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, answer = self.server.app.handle(method, self.path, dict(self.headers), body)
        data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:           # the client is gone (killed, timed out): nothing to tell
            pass

    def log_message(self, *args):
        pass


class HttpStandIn:
    def __init__(self):
        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        self.server.daemon_threads = True
        self.server.app = self
        self.lock = threading.Lock()

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def handle(self, method, path, headers, body):
        raise NotImplementedError


class SmsGateway(HttpStandIn):
    """A gateway like many: POST /send with mobile, content and client_ref (JSON or form), bearer token checked;
    answers {"code": 0, "msg_id": ...}. A repeated client_ref is the SAME message: answered again, sent once.
    ``script[mobile]``: what to do on the next requests for that mobile, each one of
    ("status", 503) | ("code", 40001) | ("sleep", seconds) | ("hold", Hold)."""

    def __init__(self, token: str | None = "s3cret"):
        super().__init__()
        self.token = token
        self.requests: list[dict] = []
        self.delivered: dict[str, dict] = {}       # client_ref -> the message sent (once)
        self.script: dict[str, list] = defaultdict(list)

    def handle(self, method, path, headers, body):
        if method == "GET" and path == "/health":
            return 200, {"ok": True}
        if self.token and headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"code": 401, "msg": "bad token"}
        if "json" in headers.get("Content-Type", ""):
            fields = json.loads(body.decode("utf-8"))
        else:
            fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8")).items()}
        with self.lock:
            self.requests.append(fields)
            action = self.script[fields.get("mobile")].pop(0) if self.script[fields.get("mobile")] else None
        if action and action[0] == "status":
            return action[1], {"code": action[1], "msg": "gateway trouble"}
        if action and action[0] == "code":
            return 200, {"code": action[1], "msg": "refused"}
        if action and action[0] == "sleep":
            time.sleep(action[1])
        ref = fields.get("client_ref")
        with self.lock:
            duplicate = ref in self.delivered
            if not duplicate:
                self.delivered[ref] = fields
            msg_id = f"M-{list(self.delivered).index(ref) + 1}"
        if action and action[0] == "hold":
            action[1].reached.set()
            action[1].release_event.wait(120)
        return 200, {"code": 0, "msg_id": msg_id, "duplicate": duplicate}

    def requests_for(self, ref: str) -> list[dict]:
        return [r for r in self.requests if r.get("client_ref") == ref]


def dingtalk_expected_sign(secret: str, timestamp: str) -> str:
    """What DingTalk's documentation says the sign is, before url-encoding."""
    mac = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


class RobotServer(HttpStandIn):
    """A WeCom group robot (/cgi-bin/webhook/send?key=KEY) and a DingTalk robot (/robot/send?access_token=T,
    signed) in one server. ``errcodes``: errcodes to answer the next requests with; ``status``: HTTP statuses."""

    def __init__(self, wecom_key="wk-1", dingtalk_token="dt-1", dingtalk_secret="SECabc/+=xyz"):
        super().__init__()
        self.wecom_key, self.dingtalk_token, self.dingtalk_secret = wecom_key, dingtalk_token, dingtalk_secret
        self.wecom: list[dict] = []
        self.dingtalk: list[dict] = []
        self.raw_queries: list[str] = []
        self.errcodes: list[int] = []
        self.statuses: list[int] = []

    @property
    def wecom_url(self):
        return self.url(f"/cgi-bin/webhook/send?key={self.wecom_key}")

    @property
    def dingtalk_url(self):
        return self.url(f"/robot/send?access_token={self.dingtalk_token}")

    def handle(self, method, path, headers, body):
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.raw_queries.append(parts.query)
        if self.statuses:
            return self.statuses.pop(0), {"errcode": -1}
        message = json.loads(body.decode("utf-8")) if body else {}
        if parts.path == "/cgi-bin/webhook/send":
            if query.get("key") != self.wecom_key:
                return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
            if self.errcodes:
                return 200, {"errcode": self.errcodes.pop(0), "errmsg": "scripted"}
            self.wecom.append(message)
            return 200, {"errcode": 0, "errmsg": "ok"}
        if parts.path == "/robot/send":
            if query.get("access_token") != self.dingtalk_token:
                return 200, {"errcode": 300001, "errmsg": "token is not exist"}
            raw_sign = next((p.split("=", 1)[1] for p in parts.query.split("&") if p.startswith("sign=")), None)
            timestamp = query.get("timestamp", "")
            fresh = timestamp.isdigit() and abs(time.time() * 1000 - int(timestamp)) < 3600 * 1000
            if raw_sign is None or not fresh or unquote_plus(raw_sign) != dingtalk_expected_sign(self.dingtalk_secret, timestamp):
                return 200, {"errcode": 310000, "errmsg": "sign not match"}
            if self.errcodes:
                return 200, {"errcode": self.errcodes.pop(0), "errmsg": "scripted"}
            self.dingtalk.append(message)
            return 200, {"errcode": 0, "errmsg": "ok"}
        return 404, {"errcode": 404}
