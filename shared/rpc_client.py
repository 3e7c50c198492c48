"""A plain kombu client for nameko RPC, for callers outside nameko (the aq command, tests).

It speaks nameko's wire protocol (exchange ``nameko-rpc``, routing key ``<service>.<method>``, reply to a
private queue bound by its uuid) without eventlet, so the CLI stays an ordinary process.
"""
from __future__ import annotations

import socket
import uuid

from amqp.exceptions import ChannelError
from kombu import Connection, Consumer, Exchange, Queue

import shared.messaging  # noqa: F401  (orjson decodes replies: shared/messaging/codec.py)
from shared.rpc_errors import RemoteError, ServiceUnavailable  # noqa: F401  (raised here, caught by callers)

RPC_EXCHANGE = Exchange("nameko-rpc", type="topic", durable=True)


class RpcClient:
    def __init__(self, amqp_uri: str, timeout: float = 60.0):
        self.amqp_uri = amqp_uri
        self.timeout = timeout
        self._conn = None

    def __enter__(self):
        self._conn = Connection(self.amqp_uri)
        self._conn.connect()
        self._reply_id = str(uuid.uuid4())
        self._channel = self._conn.channel()
        self._reply_queue = Queue(f"rpc.reply-aq-cli-{self._reply_id}", exchange=RPC_EXCHANGE,
                                  routing_key=self._reply_id, exclusive=True, auto_delete=True)
        self._replies: dict[str, dict] = {}
        self._consumer = Consumer(self._channel, queues=[self._reply_queue], callbacks=[self._on_reply],
                                  accept=["json"])
        self._consumer.consume()
        return self

    def __exit__(self, *exc):
        try:
            self._consumer.cancel()
        finally:
            self._conn.release()

    def _on_reply(self, body, message):
        self._replies[message.properties.get("correlation_id")] = body
        message.ack()

    def call(self, service: str, method: str, *args, timeout: float | None = None, **kwargs):
        correlation_id = str(uuid.uuid4())
        producer = self._conn.Producer(self._channel)
        try:
            return self._call(producer, correlation_id, service, method, args, kwargs, timeout)
        except ChannelError as exc:
            if "NO_ROUTE" not in str(exc):
                raise
            # Nobody consumes <service>.<method>: the service is not running (the broker returned the call).
            raise ServiceUnavailable(f"{service} is not running (`aq up` starts it)") from None

    def _call(self, producer, correlation_id, service, method, args, kwargs, timeout):
        producer.publish({"args": list(args), "kwargs": kwargs}, exchange=RPC_EXCHANGE,
                         routing_key=f"{service}.{method}", reply_to=self._reply_id,
                         correlation_id=correlation_id, serializer="json", mandatory=True,
                         declare=[RPC_EXCHANGE])
        deadline = timeout or self.timeout
        try:
            while correlation_id not in self._replies:
                self._conn.drain_events(timeout=deadline)
        except socket.timeout:
            raise ServiceUnavailable(f"{service} did not answer {method} within {deadline:.0f}s "
                                     f"(is it running? `aq up`)") from None
        reply = self._replies.pop(correlation_id)
        if reply.get("error"):
            raise RemoteError(reply["error"])
        return reply.get("result")
