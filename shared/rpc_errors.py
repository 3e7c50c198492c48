"""The errors of an RPC call from outside nameko (shared/rpc_client.py), apart from the client, so that catching them
does not import kombu."""
from __future__ import annotations


class RemoteError(Exception):
    def __init__(self, error: dict):
        self.exc_type = error.get("exc_type")
        self.value = error.get("value")
        self.error = error
        super().__init__(f"{self.exc_type}: {self.value}")


class ServiceUnavailable(Exception):
    pass
