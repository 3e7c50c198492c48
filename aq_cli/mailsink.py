"""A development SMTP server: accepts every message and keeps it as an .eml file.

`aq up` runs it when no real SMTP server is configured, so the demo's e-mails can be read under
AQ_HOME/mail. It never relays anything anywhere.
"""
from __future__ import annotations

import hashlib
import time
import uuid
from pathlib import Path

from aiosmtpd.controller import Controller


class MailboxHandler:
    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):
        # Like a mail system that deduplicates: a message whose Message-ID was already delivered is
        # accepted and dropped (notification resends an in-doubt notice under the same Message-ID).
        message_id = _message_id(envelope.original_content or envelope.content)
        if message_id:
            seen = self.folder / ".seen" / hashlib.sha256(message_id).hexdigest()
            if seen.exists():
                return "250 Message accepted (duplicate Message-ID, not stored again)"
            seen.parent.mkdir(exist_ok=True)
            seen.touch()
        name = f"{time.time():.6f}-{uuid.uuid4().hex[:8]}.eml"
        tmp = self.folder / (name + ".tmp")
        tmp.write_bytes(envelope.original_content or envelope.content)
        tmp.rename(self.folder / name)    # readers never see half a message
        return "250 Message accepted for delivery"


def _message_id(raw: bytes) -> bytes | None:
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    for line in head.splitlines():
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip() or None
    return None


def serve(port: int, folder: Path, host: str = "127.0.0.1") -> None:
    controller = Controller(MailboxHandler(folder), hostname=host, port=port)
    controller.start()
    print(f"mail sink on {host}:{port}, keeping messages in {folder}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
