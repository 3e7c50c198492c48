"""What the rules measure about a student at a semester (policy.md §2, §3).

``semester_views(records)`` walks one student's history once, in semester order, and yields a
``SemesterView`` per semester in which the student has any record. The view knows, for every course the student
has a record of up to that semester, its OUTCOME (best result so far, §2) and its credits and course type (from
its latest record so far), plus the records of the semester itself. The measures are methods of the view.

Arithmetic is decimal, not binary floating point: credits such as 2.5 and scores such as 72.5 are decimals, and
a GPA of exactly 2.0 must not come out as 1.9999999999999998 and draw a warning (§3: "never rounded before
comparing"). Values are handed to events as floats only at the end.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from shared.academic.scores import Result, better, read_score
from shared.academic.semesters import sort_key
from shared.academic.vocabulary import REGULAR_SITTINGS, WARNING_COURSE_TYPES

from services.warnings.domain.model import GradeRecord

# Within one semester the sittings happen in this order: the regular exam (or the deferred one that replaces
# it), then the make-up; a retake is its own sitting. The last of them is the course's "latest record".
_SITTING_ORDER = {"regular": 0, "deferred": 1, "makeup": 2, "retake": 3}
# The sittings that decide a semester's own failed credits (§3): a retake belongs to another course run.
_SEMESTER_SITTINGS = REGULAR_SITTINGS | {"makeup"}

_FOUR = Decimal(4)
_FIFTY = Decimal(50)
_SIXTY = Decimal(60)
_NINETY = Decimal(90)
_TEN = Decimal(10)
_ZERO = Decimal(0)


@dataclass(frozen=True)
class Reading:
    """A raw score read once: its result and, if it has a number, its grade point."""
    result: Result
    grade_point: Decimal | None


@lru_cache(maxsize=8192)
def read(score: str) -> Reading:
    # Few distinct score texts exist; the cache makes reading 100,000 records cheap.
    result = read_score(score)
    if result.numeric is None:
        return Reading(result, None)
    return Reading(result, grade_point(Decimal(repr(result.numeric))))


def grade_point(number: Decimal) -> Decimal:
    """§3: 4.0 for x ≥ 90, (x − 50) / 10 for 60 ≤ x < 90, 0 for x < 60."""
    if number >= _NINETY:
        return _FOUR
    if number >= _SIXTY:
        return (number - _FIFTY) / _TEN
    return _ZERO


@lru_cache(maxsize=1024)
def _decimal(credits: float) -> Decimal:
    # repr gives the shortest text that reads back as the same float: 2.5 -> Decimal("2.5"), not its binary value.
    return Decimal(repr(float(credits)))


@lru_cache(maxsize=256)
def _semester_order(code: str) -> tuple[int, int]:
    return sort_key(code)


class CourseResult(NamedTuple):
    """A course as a measure sees it: credits and type from its latest record, and the result that counts.
    (A NamedTuple: one is made per record, and it is cheaper to build than a frozen dataclass.)"""
    course_code: str
    course_name: str
    credits: float
    course_type: str
    result: Result | None      # None: no result yet
    score: str | None          # the raw text of that result
    credit_value: Decimal      # credits as a decimal
    points: Decimal | None     # grade point × credits, when the result has a number

    def as_reason(self) -> dict:
        """The ``ReasonCourseSchema`` shape."""
        return {"course_code": self.course_code, "course_name": self.course_name,
                "credits": self.credits, "result": self.score or ""}


@dataclass(frozen=True)
class CreditSum:
    """A sum of credits and the courses behind it (in no particular order)."""
    value: Decimal
    courses: tuple[CourseResult, ...]


@dataclass(frozen=True)
class GradePointAverage:
    """Credit-weighted mean grade point over the courses with a numeric outcome; None if there are none."""
    value: Decimal | None
    graded_credits: Decimal
    courses: tuple[CourseResult, ...]


class SemesterView:
    """One student at one semester S: the context every rule is given."""

    __slots__ = ("student_id", "semester", "courses", "records", "previous_courses", "first_semester")

    def __init__(self, student_id: str, semester: str, courses: dict[str, CourseResult],
                 records: tuple[tuple[GradeRecord, Reading], ...],
                 previous_courses: dict[str, CourseResult] | None = None, first_semester: str | None = None):
        self.student_id = student_id
        self.semester = semester
        self.courses = courses      # course_code -> outcome at S (§2), credits and type from its latest record ≤ S
        self.records = records      # this semester's records, in sitting order, with their readings
        # The same as ``courses`` just before S (the previous view's dict, not a copy): what S newly earned.
        self.previous_courses = previous_courses if previous_courses is not None else {}
        # The student's earliest semester with any record: the best this service knows of the year they entered.
        self.first_semester = first_semester or semester

    def unresolved_failed_credits(self, course_types: Collection[str] = WARNING_COURSE_TYPES) -> CreditSum:
        """§3 应修未得学分: credits of counted courses whose outcome at S is a fail."""
        failed = []
        total = _ZERO
        for c in self.courses.values():
            if c.result is not None and c.result.passed is False and c.course_type in course_types:
                failed.append(c)
                total += c.credit_value
        return CreditSum(total, tuple(failed))

    def semester_failed_credits(self, course_types: Collection[str] = WARNING_COURSE_TYPES) -> CreditSum:
        """§3: credits of counted courses with a regular-exam record in S whose best regular / deferred /
        make-up result of S is a fail. Later retakes cannot change it: only S's own records are looked at."""
        sat_regular: set[str] = set()
        best: dict[str, tuple[Result, str]] = {}
        for record, reading in self.records:
            if record.exam_type in REGULAR_SITTINGS:
                sat_regular.add(record.course_code)      # whatever its score, even "no result yet"
            if record.exam_type not in _SEMESTER_SITTINGS or reading.result.passed is None:
                continue
            found = best.get(record.course_code)
            if found is None or better(found[0], reading.result) is not found[0]:
                best[record.course_code] = (reading.result, record.score)
        failed = []
        for code in sat_regular:
            found = best.get(code)
            if found is None or found[0].passed is not False:
                continue
            course = self.courses[code]
            if course.course_type in course_types:
                # The semester's own best result is the one to quote, not the outcome so far.
                failed.append(course._replace(result=found[0], score=found[1]))
        return CreditSum(sum((c.credit_value for c in failed), _ZERO), tuple(failed))

    def sat_regular_exams(self) -> bool:
        """Whether the student has a regular (or deferred) sitting in S: a semester they were enrolled in courses."""
        return any(record.exam_type in REGULAR_SITTINGS for record, _ in self.records)

    def earned_credits(self, course_types: Collection[str]) -> CreditSum:
        """Credits newly earned in S: courses of the given types with a passing sitting in S (regular, deferred,
        make-up or retake) that had not been passed before S. Credits come from the course's latest record."""
        earned = []
        for code in {record.course_code for record, reading in self.records if reading.result.passed}:
            before = self.previous_courses.get(code)
            if before is not None and before.result is not None and before.result.passed:
                continue
            course = self.courses[code]
            if course.course_type in course_types:
                earned.append(course)
        return CreditSum(sum((c.credit_value for c in earned), _ZERO), tuple(earned))

    def gpa(self) -> GradePointAverage:
        """§3 GPA over the courses whose OUTCOME at S has a number (合格 / 不合格 / 免修 outcomes are left out,
        even if the course also has numeric records). All course types count."""
        graded = []
        credits = points = _ZERO
        for c in self.courses.values():      # one pass: this runs for every semester of every student
            if c.points is not None:
                graded.append(c)
                credits += c.credit_value
                points += c.points
        if not credits:
            return GradePointAverage(None, credits, tuple(graded))
        return GradePointAverage(points / credits, credits, tuple(graded))


def semester_views(records: Iterable[GradeRecord]) -> Iterator[SemesterView]:
    """One view per semester in which the student has any record (a no-result record counts: policy.md §4),
    in semester order. One pass over the history: each semester folds its records into the running state."""
    by_semester: dict[str, list[GradeRecord]] = {}
    student = None
    for record in records:
        if record.student_id != student:
            if student is not None:
                raise ValueError(f"records of several students given: {student}, {record.student_id}")
            student = record.student_id
        by_semester.setdefault(record.semester, []).append(record)
    courses: dict[str, CourseResult] = {}
    previous: dict[str, CourseResult] = {}
    order = sorted(by_semester, key=_semester_order)
    first = order[0] if order else None
    for semester in order:
        sittings = by_semester[semester]
        if len(sittings) > 1:
            sittings.sort(key=_sitting_order)
        read_sittings = tuple([(record, read(record.score)) for record in sittings])
        for record, reading in read_sittings:
            code = record.course_code
            current = courses.get(code)
            credit_value = _decimal(record.credits)
            if current is None:
                result = score = points = None
            else:
                result, score = current.result, current.score
                points = current.points if current.credit_value == credit_value else None
            sitting = reading.result
            if sitting.passed is not None:
                # A no-result record is ignored by the rules: it never becomes the outcome.
                # ``better`` returns one of its arguments; on a tie the earlier result stays.
                if result is None or better(result, sitting) is not result:
                    result, score = sitting, record.score
                    points = None
            if points is None and result is not None and result.numeric is not None:
                points = read(score).grade_point * credit_value
            # Credits, name and type come from the latest record (§3), whatever its score.
            courses[code] = CourseResult(code, record.course_name, record.credits, record.course_type, result, score,
                                         credit_value, points)
        current = dict(courses)
        yield SemesterView(student, semester, current, read_sittings, previous, first)
        previous = current


def _sitting_order(record: GradeRecord) -> int:
    return _SITTING_ORDER.get(record.exam_type, len(_SITTING_ORDER))
