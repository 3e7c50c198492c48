"""RabbitMQ definitions (exchanges, queues, bindings, policies) generated from contracts/registry.py.

    python deploy/rabbitmq/generate_definitions.py          # (re)writes deploy/rabbitmq/definitions.json
    python deploy/rabbitmq/generate_definitions.py --check  # exit 1 if the file is not what the registry gives

The broker loads the file at start (`load_definitions` in rabbitmq.conf, mounted from a ConfigMap:
deploy/rabbitmq/kustomization.yaml), so every queue exists as a quorum queue before the first service
connects. The queues come from shared/messaging/topology.py with AQ_QUEUE_TYPE=quorum -- the very Queue
objects the services declare -- so their arguments are equivalent to the services' declarations (RabbitMQ
refuses a declaration whose arguments differ). tests/unit/deploy/ fails when the file drifts from the
registry; tests/interface/test_quorum_queues.py imports it into a real broker and starts a service on it.

No users here: the broker's users come from a Secret (users.json in the same definitions directory), so no
password lives in a ConfigMap or in the repository.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OUTPUT = HERE / "definitions.json"
VHOST = "/"
RPC_EXCHANGE = "nameko-rpc"      # nameko declares it (topic, durable); listed so it exists from the start
DELIVERY_LIMIT = 20

# Policies. One policy applies to a queue (the highest priority that matches), so each repeats what it needs.
POLICIES = [
    {"name": "aq-handler-queues", "pattern": r"^aq\.[^.]+\.[^.]+$", "apply-to": "queues", "priority": 10,
     "definition": {
         # Leaders spread over the nodes as the queues are declared.
         "queue-leader-locator": "balanced",
         # A message that comes back more than DELIVERY_LIMIT times without being settled (the process
         # handling it died each time) is dead-lettered to the parking queue instead of looping for ever
         # -- or being dropped, which RabbitMQ 4 does by default after 20 deliveries without a
         # dead-letter target. Failures that raise never count here: the consumer settles them itself
         # (retry queue, then aq.parked).
         "delivery-limit": DELIVERY_LIMIT,
         "dead-letter-exchange": "",
         "dead-letter-routing-key": "aq.parked",
         "dead-letter-strategy": "at-least-once",
         "overflow": "reject-publish"}},
    {"name": "aq-queues", "pattern": r"^aq\.", "apply-to": "queues", "priority": 0,
     "definition": {"queue-leader-locator": "balanced"}},
    # nameko's RPC request queues (rpc-<service>) are classic queues that nameko declares itself; mirrored,
    # they survive the loss of the node that holds them (docs/operations.md: "RPC queues in a cluster").
    {"name": "nameko-rpc-mirrored", "pattern": r"^rpc-", "apply-to": "queues", "priority": 0,
     "definition": {"ha-mode": "all", "ha-sync-mode": "automatic"}},
]


def definitions(vhost: str = VHOST) -> dict:
    sys.path.insert(0, str(REPO))
    from shared.messaging.topology import EVENTS_EXCHANGE, all_queues

    queues = all_queues("quorum")
    exchanges = [
        {"name": EVENTS_EXCHANGE.name, "vhost": vhost, "type": EVENTS_EXCHANGE.type,
         "durable": EVENTS_EXCHANGE.durable, "auto_delete": EVENTS_EXCHANGE.auto_delete, "internal": False,
         "arguments": {}},
        {"name": RPC_EXCHANGE, "vhost": vhost, "type": "topic", "durable": True, "auto_delete": False,
         "internal": False, "arguments": {}},
    ]
    return {
        "vhosts": [{"name": vhost}],
        "exchanges": exchanges,
        "queues": [{"name": q.name, "vhost": vhost, "durable": q.durable, "auto_delete": q.auto_delete,
                    "arguments": dict(q.queue_arguments or {})} for q in queues],
        "bindings": [{"source": q.exchange.name, "vhost": vhost, "destination": q.name,
                      "destination_type": "queue", "routing_key": q.routing_key, "arguments": {}}
                     for q in queues if q.exchange is not None and q.exchange.name],
        "policies": [{"vhost": vhost, **policy} for policy in POLICIES],
    }


def render(vhost: str = VHOST) -> str:
    return json.dumps(definitions(vhost), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file differs from the registry")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date with contracts/registry.py: "
                  "run python deploy/rabbitmq/generate_definitions.py", file=sys.stderr)
            return 1
        print(f"{args.output.name}: up to date with contracts/registry.py")
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
