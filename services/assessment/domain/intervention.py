"""Does the intervention work? For the students warned in a semester, how many improved the next semester, split
by whether their one-on-one talk (duties.md) was done on time.

* WARNED at S: the student's current level at S (warnings.changed, latest change) is yellow, orange or red.
* NEXT semester: the next autumn or spring semester (summer terms skipped, like "previous" in policy.md §1).
* A warned student is JUDGED only if they have a grade record in the next semester (they were evaluated
  there); otherwise they are "not yet evaluated" (the next semester's grades have not arrived, or they left).
* IMPROVED: the level at the next semester is lower than at S (fell) or none (lifted). Escalation counts, as
  the policy does: a student still warned the next semester is escalated, so "same level" is rare.
* The talk: the student's talk task(s) of semester S (advising.tasks_changed); the earliest due decides.
  ON TIME = closed with its record on or before its due date (the date advising announced it done).
  Groups: on_time, late (done after the due date), not_done (still open), no_task (advising has no talk).
"""
from __future__ import annotations

from typing import Iterable, Mapping

from shared.academic.vocabulary import level_rank

from .facts import Ratio, Task

GROUPS = ("on_time", "late", "not_done", "no_task")
GROUP_LABELS = {"on_time": ("按时面谈", "talk on time"), "late": ("逾期面谈", "talk late"),
                "not_done": ("尚未面谈", "talk not done"), "no_task": ("无面谈任务", "no talk task")}


def talk_group(student_id: str, semester: str, tasks: Iterable[Task]) -> str:
    talks = sorted((t for t in tasks if t.kind == "talk" and t.student_id == student_id and t.semester == semester),
                   key=lambda t: (t.due, t.task_id))
    if not talks:
        return "no_task"
    first = talks[0]
    if first.on_time():
        return "on_time"
    return "late" if first.done else "not_done"


def intervention_effect(semester: str, next_semester: str, levels: Mapping[tuple[str, str], str],
                        evaluated_next: Iterable[str], tasks: Iterable[Task]) -> dict:
    """``levels``: (student, semester) -> current level (absent or "none" = no warning)."""
    tasks = list(tasks)
    evaluated = set(evaluated_next)
    warned = sorted(sid for (sid, sem), level in levels.items() if sem == semester and level_rank(level) > 0)
    groups = {g: {"warned": 0, "evaluated": 0, "improved": 0, "lifted": 0, "fell": 0, "not_improved": 0,
                  "not_evaluated": 0, "students": []} for g in GROUPS}
    for sid in warned:
        group = groups[talk_group(sid, semester, tasks)]
        group["warned"] += 1
        before = level_rank(levels[(sid, semester)])
        if sid not in evaluated:
            group["not_evaluated"] += 1
            outcome = "not_evaluated"
        else:
            group["evaluated"] += 1
            after = level_rank(levels.get((sid, next_semester)))
            if after == 0:
                group["lifted"] += 1
                outcome = "lifted"
            elif after < before:
                group["fell"] += 1
                outcome = "fell"
            else:
                group["not_improved"] += 1
                outcome = "not_improved"
            if outcome in ("lifted", "fell"):
                group["improved"] += 1
        group["students"].append({"student_id": sid, "outcome": outcome})
    for g in groups.values():
        g["improved_rate"] = Ratio(g["improved"], g["evaluated"]).to_dict()
    on_time = groups["on_time"]
    others = [groups[g] for g in GROUPS if g != "on_time"]
    return {
        "semester": semester,
        "next_semester": next_semester,
        "warned": len(warned),
        "groups": groups,
        "on_time": Ratio(on_time["improved"], on_time["evaluated"]).to_dict(),
        "not_on_time": Ratio(sum(g["improved"] for g in others), sum(g["evaluated"] for g in others)).to_dict(),
    }
