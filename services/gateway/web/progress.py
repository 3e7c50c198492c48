"""An upload's cascade as the upload page shows it: settled, still running (how far), or stuck.

Input is the API's ``uploads.status`` answer: ``settled``, ``waiting`` (what is not yet handled), ``stuck``
(parked messages of this upload) and ``tree`` — the cascade drawn as ``aq trace`` draws it
(aq_cli/trace_tree.py), where each subscriber of each event is marked ``✓`` (handled) or ``…`` (not yet). Those
marks are the progress: handled deliveries out of the deliveries known so far. The verdict itself ("settled") is
the API's, computed by the same rule as ``aq wait``, so the page and the CLI never disagree."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# "✓ warnings.on_records_stored" / "… advising.on_changed" as trace_tree.render marks a subscriber.
_HANDLED = re.compile(r"✓ [a-z_]+\.[a-z_]+")
_PENDING = re.compile(r"… [a-z_]+\.[a-z_]+")


@dataclass
class Progress:
    state: str                     # settled | running | stuck
    done: int
    expected: int
    tree: str
    stuck: list[dict] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    waiting_count: int = 0

    @property
    def percent(self) -> int:
        if self.state == "settled":
            return 100
        if not self.expected:
            return 0
        # Never 100 before it has settled: the events not yet handled may still cause more.
        return min(99, int(100 * self.done / self.expected))


def progress(status: dict) -> Progress:
    tree = status.get("tree") or ""
    done = len(_HANDLED.findall(tree))
    expected = done + len(_PENDING.findall(tree))
    stuck = list(status.get("stuck") or ())
    waiting = list(status.get("waiting") or ())
    state = "settled" if status.get("settled") else ("stuck" if stuck else "running")
    return Progress(state=state, done=done, expected=expected, tree=tree, stuck=stuck, waiting=waiting[:10],
                    waiting_count=len(waiting))
