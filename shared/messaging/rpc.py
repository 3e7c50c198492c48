"""``rpc`` and ``RpcProxy`` as nameko's, on a queue consumer that stops in a fraction of a second.

nameko's queue consumer (shared by a service's RPC entrypoints, its RPC proxies' reply listener and its event
handlers) runs kombu's consume loop, which waits up to ``safety_interval`` (kombu's default: 1 s) for a message
before it looks at what it was asked to do. A stop asks it three times, one after the other (cancel the
entrypoints' consumers, then the reply listener's, then end the loop), so every service took 3 s to stop after
SIGTERM with nothing to finish: ``aq down`` 4.7 s, a Kubernetes rolling update 3 s per pod, every test that stops
a service 3 s. Waiting 0.1 s per turn instead stops an idle service in about 0.3 s; an idle service's loop then
wakes ten times a second, which costs nothing measurable. A message arriving wakes the loop at once either way.
A timeout in the middle of a frame is safe: py-amqp keeps the bytes already read for the next turn.

Services import ``rpc`` and ``RpcProxy`` from here; ``shared.messaging.consumer.EventHandler`` uses the same
consumer, so a service still holds one consumer connection for all of them.
"""
from __future__ import annotations

from nameko import rpc as nameko_rpc
from nameko.messaging import QueueConsumer

SAFETY_INTERVAL_SECONDS = 0.1


class PromptQueueConsumer(QueueConsumer):
    def consume(self, limit=None, timeout=None, safety_interval=SAFETY_INTERVAL_SECONDS, **kwargs):
        return super().consume(limit=limit, timeout=timeout, safety_interval=safety_interval, **kwargs)


class RpcConsumer(nameko_rpc.RpcConsumer):
    queue_consumer = PromptQueueConsumer()


class Rpc(nameko_rpc.Rpc):
    rpc_consumer = RpcConsumer()


rpc = Rpc.decorator


class ReplyListener(nameko_rpc.ReplyListener):
    queue_consumer = PromptQueueConsumer()


class RpcProxy(nameko_rpc.RpcProxy):
    rpc_reply_listener = ReplyListener()
