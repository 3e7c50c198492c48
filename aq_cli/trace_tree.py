"""Rendering an upload's ledgers as a tree: records -> warning changes -> notices -> tasks."""
from __future__ import annotations

from collections import Counter, defaultdict

from contracts.registry import event_type


def render(upload_id: str, ledgers: dict[str, dict], state) -> str:
    lines = []
    upload = (ledgers.get("grades") or {}).get("upload")
    if upload:
        lines.append(f"upload {upload_id}  {upload['filename']}  by {upload['uploaded_by']}  "
                     f"{upload['rows']} rows: {upload['new']} new, {upload['corrected']} corrected, "
                     f"{upload['unchanged']} unchanged, {upload['batches']} batches")
    else:
        lines.append(f"upload {upload_id}  (nothing stored: unknown id, or the upload changed nothing)")
    emitted = {e["event_id"]: (service, e) for service, ledger in ledgers.items() for e in ledger["emitted"]}
    children = defaultdict(list)
    for event_id, (_, event) in emitted.items():
        parent = event["causation_id"] if event["causation_id"] in emitted else None
        children[parent].append(event_id)
    handled = defaultdict(set)
    for service, ledger in ledgers.items():
        for c in ledger["consumed"]:
            handled[c["event_id"]].add(f"{service}.{c['handler']}")
    notices = defaultdict(list)
    for n in (ledgers.get("notification") or {}).get("notices", []):
        notices[n.get("event_id")].append(n)
    tasks_by_cause = (ledgers.get("advising") or {}).get("tasks", [])
    changes = (ledgers.get("warnings") or {}).get("changes", [])

    def walk(event_id: str, depth: int):
        service, event = emitted[event_id]
        subscribers = [f"{s}.{h}" for s, h in event_type(event["type"]).subscribers]
        marks = " ".join(("✓ " if s in handled[event_id] else "… ") + s for s in subscribers)
        state_mark = "" if event["published"] else "  [not yet published]"
        lines.append("  " * depth + f"└ {event['type']} ({service}){state_mark}  {marks}")
        if notices.get(event_id):
            count = Counter((n["recipient_kind"], n["status"]) for n in notices[event_id])
            lines.append("  " * (depth + 1) + "notices: " + ", ".join(f"{k} {s} {v}" for (k, s), v in sorted(count.items())))
        for child in children.get(event_id, []):
            walk(child, depth + 1)

    for root in children.get(None, []):
        walk(root, 1)
    if changes:
        lines.append("warning changes: " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(c['kind'] for c in changes).items())))
    waiting = (ledgers.get("warnings") or {}).get("waiting_for_review")
    if waiting:
        # Settled only means the bus is quiet: these changes reach nobody until academic affairs confirm them.
        lines.append(f"waiting for review: {waiting} warning change(s) — `aq warnings pending`, then "
                     f"`aq warnings confirm`")
    if tasks_by_cause:
        lines.append("tasks: " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(t['kind'] for t in tasks_by_cause).items())))
    if state.settled:
        lines.append("settled: every event handled by every subscriber, every notice delivered")
    else:
        for item in state.stuck:
            lines.append(f"STUCK: {item['type']} parked on {item['queue']} after {item['attempts']} attempts: {item['error']}")
        for line in state.waiting[:20]:
            lines.append(f"waiting: {line}")
    return "\n".join(lines)
