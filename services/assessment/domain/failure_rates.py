"""Course failure rates (kpis.md, course failure-rate review; policy art. 3).

For one OFFERING — (semester, course code, teacher) — the failure rate is

    students whose regular-exam result in that semester is a fail
    ÷ students with a regular-exam result in that semester

where a regular-exam result is a record of a regular sitting (``REGULAR_SITTINGS``: regular or deferred — a
deferred exam replaces the regular one) whose score gives a result. Each student is counted once, with the
best of their regular/deferred results of that semester (``scores.better``), under the teacher named on the
record that gave that best result. Make-ups and retakes never count: the review is about how the course went
the first time.

Records are canonical ``GradeRecordSchema`` dicts; the caller passes the CURRENT records (a correction has
already replaced the record it corrects).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from shared.academic.scores import Result, better, read_score
from shared.academic.vocabulary import REGULAR_SITTINGS

# (semester, course_code, teacher)
OfferingKey = tuple[str, str, str]


@dataclass(frozen=True)
class CourseRate:
    semester: str
    course_code: str
    course_name: str
    teacher: str
    offering_college: str       # "" = this college
    failed_students: tuple[str, ...] = field(default=())   # sorted student ids
    passed_students: tuple[str, ...] = field(default=())   # sorted student ids

    @property
    def key(self) -> OfferingKey:
        return (self.semester, self.course_code, self.teacher)

    @property
    def students(self) -> tuple[str, ...]:
        """Everyone counted in the denominator: whose majors the flag names."""
        return tuple(sorted(self.failed_students + self.passed_students))

    @property
    def failed(self) -> int:
        return len(self.failed_students)

    @property
    def total(self) -> int:
        return len(self.passed_students) + len(self.failed_students)

    @property
    def rate(self) -> float:
        # An offering whose regular sittings have no result yet (all 缓考/取消/empty) has nothing to review.
        return self.failed / self.total if self.total else 0.0


def offering_label(key: OfferingKey) -> str:
    """``"<semester>|<course_code>|<teacher>"``: how an offering is named in files and logs."""
    return "|".join(key)


def _replaces(held: tuple[Result, str], result: Result, teacher: str) -> bool:
    """Whether ``result`` (under ``teacher``) is the student's better regular result than ``held`` (result,
    teacher). Equal results (a regular and a deferred sitting both 70) go to the teacher whose name sorts first, so
    the answer never depends on record order."""
    a, held_teacher = held
    if (a.passed, a.numeric) == (result.passed, result.numeric):
        return teacher < held_teacher
    return better(a, result) is result


# The fields the rates read, in the order of a row for ``failure_rates_of_rows``.
RATE_FIELDS = ("student_id", "semester", "course_code", "exam_type", "course_name", "score", "teacher",
               "offering_college")


def course_failure_rates(records: Iterable[Mapping]) -> dict[OfferingKey, CourseRate]:
    """The failure rate of every offering that has a regular sitting among ``records``.

    An offering whose regular-sitting records give no result (yet) is still listed, with total 0 and rate 0.0,
    so that a flag raised on it before can be lifted when its results are withdrawn.
    """
    return failure_rates_of_rows((r["student_id"], r["semester"], r["course_code"], r["exam_type"], r["course_name"],
                                  r["score"], r["teacher"], r.get("offering_college"))
                                 for r in records if r["exam_type"] in REGULAR_SITTINGS)


def failure_rates_of_rows(rows: Iterable[tuple]) -> dict[OfferingKey, CourseRate]:
    """:func:`course_failure_rates` of records given as tuples of RATE_FIELDS (rows as a database returns them:
    no dict per record)."""
    best: dict[tuple[str, str, str], tuple[Result, str]] = {}   # (semester, course, student) -> (best result, teacher)
    names: dict[OfferingKey, tuple[str, str]] = {}              # offering -> (course_name, offering_college)

    for student_id, semester, course_code, exam_type, course_name, score, teacher, offering_college in rows:
        if exam_type not in REGULAR_SITTINGS:
            continue
        # The latest record seen names the course; an upload that renames it is the more recent truth.
        names[(semester, course_code, teacher)] = (course_name, (offering_college or "").strip())
        result = read_score(score)
        if not result.has_result:
            continue
        student = (semester, course_code, student_id)
        held = best.get(student)
        if held is None or _replaces(held, result, teacher):
            best[student] = (result, teacher)

    failed: dict[OfferingKey, list[str]] = {key: [] for key in names}
    passed: dict[OfferingKey, list[str]] = {key: [] for key in names}
    for (semester, course_code, student_id), (result, teacher) in best.items():
        (failed if result.is_fail else passed)[(semester, course_code, teacher)].append(student_id)

    return {
        key: CourseRate(
            semester=key[0],
            course_code=key[1],
            course_name=course_name,
            teacher=key[2],
            offering_college=offering_college,
            failed_students=tuple(sorted(failed[key])),
            passed_students=tuple(sorted(passed[key])),
        )
        for key, (course_name, offering_college) in names.items()
    }
