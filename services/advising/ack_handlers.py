"""The advising service layer for notices not acknowledged (domain/acknowledgements.py): the head teacher's
follow-up task, stored once per warning change and announced like every task."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from services.advising.domain.acknowledgements import follow_up_tasks
from services.advising.domain.tasks import Responsibles
from services.advising.handlers import _announce, _create


def on_acknowledgement_overdue(uow, entries: Iterable[Mapping], people: Mapping[str, Responsibles],
                               occurred_at: datetime) -> list[dict]:
    created = _create(uow, follow_up_tasks(entries, people, occurred_at))
    _announce(uow, created)
    return created
