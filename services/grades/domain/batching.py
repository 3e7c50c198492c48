"""Cutting an upload's changed records into event batches.

A batch holds at most ``size`` records but never splits one student's records, so the warnings service
sees all of a student's news in one event and evaluates the student once per upload.
"""
from __future__ import annotations

from itertools import groupby


def batches_by_student(records: list[dict], size: int = 1000) -> list[list[dict]]:
    ordered = sorted(records, key=lambda r: r["student_id"])
    result: list[list[dict]] = []
    current: list[dict] = []
    for _, group in groupby(ordered, key=lambda r: r["student_id"]):
        group = list(group)
        if current and len(current) + len(group) > size:
            result.append(current)
            current = []
        current.extend(group)
    if current:
        result.append(current)
    return result
