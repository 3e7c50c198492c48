"""Every service's consumers share one queue consumer that stops promptly (shared/messaging/rpc.py).

A service that imported nameko's own ``rpc`` or ``RpcProxy`` again would get a second consumer connection whose
stop waits a second per step (3 s per SIGTERM); this finds that without a broker."""
import inspect

import pytest
from nameko.containers import ServiceContainer
from nameko.messaging import QueueConsumer

from aq_cli.processes import RUNNABLE, service_path
from shared.messaging.rpc import SAFETY_INTERVAL_SECONDS, PromptQueueConsumer


def service_class(name):
    module, _, cls = service_path(name).partition(":")
    return getattr(__import__(module, fromlist=[cls]), cls)


@pytest.mark.parametrize("name", RUNNABLE)
def test_a_service_has_one_queue_consumer_and_it_stops_promptly(name):
    container = ServiceContainer(service_class(name), {"AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/"})
    consumers = [ext for ext in container.extensions if isinstance(ext, QueueConsumer)]
    assert consumers, f"{name} consumes nothing?"
    assert all(type(ext) is PromptQueueConsumer for ext in consumers), \
        f"{name}: {[type(ext).__module__ + '.' + type(ext).__name__ for ext in consumers]}"
    assert len(consumers) == 1, f"{name} holds {len(consumers)} consumer connections"


def test_the_consume_loop_waits_a_tenth_of_a_second_per_turn():
    default = inspect.signature(PromptQueueConsumer.consume).parameters["safety_interval"].default
    assert default == SAFETY_INTERVAL_SECONDS <= 0.2
