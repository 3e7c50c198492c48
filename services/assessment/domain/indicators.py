"""The indicators of kpis.md, as pure functions of the facts (docs/indicators.md says how each is counted).

* class indicators (policy art. 10), per class per semester: failure rate (人次) and students with a fail,
  CET-4/6 pass rate (ever passed by the end of the semester), graduate figures when the class graduates in that
  academic year, awards of school level or above (dated in the semester), head-teacher duty compliance;
* a head-teacher scorecard: the head teacher's classes beside the mean class of their cohort and of the college;
* department indicators (policy art. 9), per major per (graduating / intake) year;
* duty compliance of any member of staff from advising's tasks.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Mapping

from shared.academic.scores import Result, better, read_score
from shared.academic.semesters import sort_key
from shared.academic.vocabulary import REGULAR_SITTINGS

from .facts import (Outcome, Ratio, Roster, Task, academic_year_end, graduating_year, mean, semester_window,
                    semesters_of_year)
from .outcomes import (ABROAD, AWARD, CET4, CET6, CET_PASS, COUNTED_AWARD_LEVELS, DEGREE, DESTINATION, EMPLOYED,
                       ENROLMENT, FURTHER_STUDY, GRADUATION, SELF_EMPLOYED, enrolment_parts)

# --- task kinds advising announces (services/advising/domain/duties.py); meetings and observations are counted
# under any of these names once advising records them.
TALK = "talk"
PARENT_CONTACT = "parent_contact"
COUNSELOR_TALK = "counselor_talk"
COURSE_REVIEW = "course_review"
CLASS_MEETING_KINDS = frozenset({"class_meeting", "themed_class_meeting"})
OBSERVATION_KINDS = frozenset({"observation", "classroom_observation", "class_observation"})
REQUIRED_CLASS_MEETINGS = 3        # duties.md: at least 3 themed class meetings per semester
REQUIRED_OBSERVATIONS = 3          # duties.md: at least 3 classroom observations per semester


# --- grade results -------------------------------------------------------------------------------------------------
ResultKey = tuple[str, str, str]     # (semester, student_id, course_code)


def regular_results(records: Iterable[Mapping], semesters: Iterable[str] | None = None) -> dict[ResultKey, Result]:
    """Each student's best regular-exam result (正常考试 or 缓考, policy.md §1) per course and semester. Records
    without a result (缓考 pending, 取消, empty) give none; make-ups and retakes never count (kpis.md)."""
    wanted = set(semesters) if semesters is not None else None
    best: dict[ResultKey, Result] = {}
    for r in records:
        if r["exam_type"] not in REGULAR_SITTINGS or (wanted is not None and r["semester"] not in wanted):
            continue
        result = read_score(r["score"])
        if not result.has_result:
            continue
        key = (r["semester"], r["student_id"], r["course_code"])
        held = best.get(key)
        best[key] = result if held is None else better(held, result)
    return best


@dataclass(frozen=True)
class FailureCount:
    results: Ratio          # failed regular-exam results ÷ regular-exam results (人次)
    students_failed: int    # students with at least one failed regular-exam result
    students_sat: int       # students with at least one regular-exam result

    def to_dict(self) -> dict:
        return {"results": self.results.to_dict(), "rate": self.results.rate, "students_failed": self.students_failed,
                "students_sat": self.students_sat}


def failure_count(results: Mapping[ResultKey, Result], semester: str, students: Iterable[str]) -> FailureCount:
    wanted = set(students)
    failed = total = 0
    failing, sat = set(), set()
    for (sem, sid, _), result in results.items():
        if sem != semester or sid not in wanted:
            continue
        total += 1
        sat.add(sid)
        if result.is_fail:
            failed += 1
            failing.add(sid)
    return FailureCount(Ratio(failed, total), len(failing), len(sat))


BANDS = ("90–100", "80–89", "70–79", "60–69", "不及格 fail", "合格/免修 pass (no score)")


def grade_band(result: Result) -> str:
    """Where a result falls in the grade distribution: numeric passes by ten points, every fail together
    (absent, cheating and 不合格 included), passes without a number (合格, 免修) apart."""
    if result.is_fail:
        return BANDS[4]
    if result.numeric is None:
        return BANDS[5]
    x = result.numeric
    return BANDS[0] if x >= 90 else BANDS[1] if x >= 80 else BANDS[2] if x >= 70 else BANDS[3]


def grade_distribution(results: Mapping[ResultKey, Result], semester: str, students: Iterable[str]) -> dict[str, int]:
    wanted = set(students)
    counts = Counter(grade_band(r) for (sem, sid, _), r in results.items() if sem == semester and sid in wanted)
    return {band: counts.get(band, 0) for band in BANDS}


# --- outcomes --------------------------------------------------------------------------------------------------------
def cet_passed(outcomes: Iterable[Outcome], kind: str, as_of: date | None = None) -> set[str]:
    """Students who have ever passed (score ≥ 425) by ``as_of`` (any date when None)."""
    return {o.student_id for o in outcomes
            if o.kind == kind and int(o.value) >= CET_PASS and (as_of is None or (o.date and o.date <= as_of))}


def cet_rate(outcomes: Iterable[Outcome], kind: str, students: Iterable[str], as_of: date | None = None) -> Ratio:
    members = set(students)
    return Ratio(len(cet_passed(outcomes, kind, as_of) & members), len(members))


@dataclass(frozen=True)
class GraduateFigures:
    """kpis.md, over the graduating students (应届毕业生) of a year."""
    graduates: int
    further_study: Ratio       # 深造率: 升学 or 出国
    postgraduate: Ratio        # postgraduate admission: 升学 (domestic)
    employment: Ratio          # 就业, 升学, 出国 or 创业
    dual_certificate: Ratio    # both the graduation and the degree certificate
    cet4: Ratio                # ever passed
    cet6: Ratio
    destinations: dict[str, int]   # destination -> students; "unrecorded" for those without one

    def to_dict(self) -> dict:
        return {"graduates": self.graduates,
                **{k: getattr(self, k).to_dict() for k in ("further_study", "postgraduate", "employment",
                                                             "dual_certificate", "cet4", "cet6")},
                "destinations": dict(self.destinations)}


def graduate_figures(outcomes: Iterable[Outcome], graduates: Iterable[str]) -> GraduateFigures:
    members = set(graduates)
    outcomes = [o for o in outcomes if o.student_id in members]
    destination = {o.student_id: o.value for o in outcomes if o.kind == DESTINATION}
    graduated = {o.student_id for o in outcomes if o.kind == GRADUATION}
    degree = {o.student_id for o in outcomes if o.kind == DEGREE}
    n = len(members)

    def count(*values):
        return Ratio(sum(1 for v in destination.values() if v in values), n)

    counts = Counter(destination.values())
    counts["unrecorded"] = n - len(destination)
    return GraduateFigures(
        graduates=n,
        further_study=count(FURTHER_STUDY, ABROAD),
        postgraduate=count(FURTHER_STUDY),
        employment=count(EMPLOYED, FURTHER_STUDY, ABROAD, SELF_EMPLOYED),
        dual_certificate=Ratio(len(graduated & degree), n),
        cet4=cet_rate(outcomes, CET4, members),
        cet6=cet_rate(outcomes, CET6, members),
        destinations=dict(sorted(counts.items())),
    )


def awards_by_level(outcomes: Iterable[Outcome], students: Iterable[str], start: date, end: date) -> dict[str, int]:
    """Awards of school level or above won by ``students`` between ``start`` and ``end`` (inclusive)."""
    members = set(students)
    counts = Counter(o.level for o in outcomes
                     if o.kind == AWARD and o.student_id in members and o.level in COUNTED_AWARD_LEVELS
                     and o.date and start <= o.date <= end)
    return {level: counts.get(level, 0) for level in COUNTED_AWARD_LEVELS}


def enrolment(outcomes: Iterable[Outcome], major: str, year: int) -> Ratio | None:
    """Enrolment completion: enrolled ÷ planned for the major's intake of ``year`` (None when not imported)."""
    for o in outcomes:
        if o.kind == ENROLMENT and o.date and o.date.year == year:
            name, planned, enrolled = enrolment_parts({"value": o.value})
            if name == major:
                return Ratio(enrolled, planned)
    return None


# --- duties ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DutyCompliance:
    """duties.md, counted from advising's tasks. A task is DUE once its due date has come (or it is done);
    ``done`` counts the tasks closed with their record; ``overdue`` the open ones past their date.
    Meetings and observations are None until advising announces tasks of those kinds."""
    talks: Ratio
    parent_contacts: Ratio
    counselor_talks: Ratio
    class_meetings: Ratio | None
    observations: Ratio | None
    overdue: int
    talks_on_time: int

    def to_dict(self) -> dict:
        out = {k: (getattr(self, k).to_dict() if getattr(self, k) is not None else None)
               for k in ("talks", "parent_contacts", "counselor_talks", "class_meetings", "observations")}
        out.update(overdue=self.overdue, talks_on_time=self.talks_on_time)
        return out


def _done_over_due(tasks: list[Task], as_of: date) -> Ratio:
    due = [t for t in tasks if t.done or t.due <= as_of]
    return Ratio(sum(1 for t in due if t.done), len(due))


def duty_compliance(tasks: Iterable[Task], assignee: str, semester: str, as_of: date,
                    students: Iterable[str] | None = None, tracked_kinds: Iterable[str] = ()) -> DutyCompliance:
    """One person's duties of one semester; with ``students``, only the student tasks about them (a head
    teacher of two classes is judged class by class; meetings and observations are the person's own)."""
    wanted = set(students) if students is not None else None
    mine = [t for t in tasks if t.assignee == assignee and t.semester == semester
            and (wanted is None or t.student_id is None or t.student_id in wanted)]
    tracked = set(tracked_kinds) | {t.kind for t in mine}

    def of(kinds):
        return [t for t in mine if t.kind in kinds]

    def held(kinds, required):
        if not (tracked & kinds):
            return None
        return Ratio(sum(1 for t in of(kinds) if t.done), required)

    talks = of({TALK})
    return DutyCompliance(
        talks=_done_over_due(talks, as_of),
        parent_contacts=_done_over_due(of({PARENT_CONTACT}), as_of),
        counselor_talks=_done_over_due(of({COUNSELOR_TALK}), as_of),
        class_meetings=held(CLASS_MEETING_KINDS, REQUIRED_CLASS_MEETINGS),
        observations=held(OBSERVATION_KINDS, REQUIRED_OBSERVATIONS),
        overdue=sum(1 for t in mine if t.overdue(as_of)),
        talks_on_time=sum(1 for t in talks if t.on_time()),
    )


def tasks_by_kind(tasks: Iterable[Task], assignee: str, semester: str, as_of: date) -> dict[str, dict]:
    """Every kind of task one person had in a semester: done / due / overdue."""
    grouped: dict[str, list[Task]] = defaultdict(list)
    for t in tasks:
        if t.assignee == assignee and t.semester == semester:
            grouped[t.kind].append(t)
    return {kind: {**_done_over_due(ts, as_of).to_dict(), "overdue": sum(1 for t in ts if t.overdue(as_of)),
                   "assigned": len(ts)}
            for kind, ts in sorted(grouped.items())}


# --- class indicators and the head-teacher scorecard -----------------------------------------------------------------
@dataclass(frozen=True)
class ClassIndicators:
    class_name: str
    major: str
    cohort: int
    head_teacher_id: str
    semester: str
    students: int
    failure: FailureCount
    cet4: Ratio
    cet6: Ratio
    graduates: GraduateFigures | None      # only in the academic year the class graduates
    awards: dict[str, int]
    duties: DutyCompliance

    def metrics(self) -> dict[str, float | None]:
        """The figures a scorecard compares (and averages over classes)."""
        g = self.graduates
        return {
            "failure_rate": self.failure.results.rate,
            "students_failed": float(self.failure.students_failed),
            "cet4_pass_rate": self.cet4.rate,
            "cet6_pass_rate": self.cet6.rate,
            "further_study_rate": g.further_study.rate if g else None,
            "employment_rate": g.employment.rate if g else None,
            "dual_certificate_rate": g.dual_certificate.rate if g else None,
            "awards": float(sum(self.awards.values())),
            "talks_done_rate": self.duties.talks.rate,
            "parent_contacts_done_rate": self.duties.parent_contacts.rate,
            "class_meetings_held": float(self.duties.class_meetings.numerator) if self.duties.class_meetings else None,
            "observations_held": float(self.duties.observations.numerator) if self.duties.observations else None,
            "overdue_tasks": float(self.duties.overdue),
        }

    def to_dict(self) -> dict:
        return {"class_name": self.class_name, "major": self.major, "cohort": self.cohort,
                "head_teacher_id": self.head_teacher_id, "semester": self.semester, "students": self.students,
                "failure": self.failure.to_dict(), "cet4": self.cet4.to_dict(), "cet6": self.cet6.to_dict(),
                "graduates": self.graduates.to_dict() if self.graduates else None, "awards": dict(self.awards),
                "duties": self.duties.to_dict(), "metrics": self.metrics()}


METRIC_LABELS = {
    "failure_rate": ("班级不及格率（人次）", "class failure rate (results)"),
    "students_failed": ("有不及格的学生数", "students with ≥1 fail"),
    "cet4_pass_rate": ("CET-4 通过率", "CET-4 pass rate"),
    "cet6_pass_rate": ("CET-6 通过率", "CET-6 pass rate"),
    "further_study_rate": ("深造率", "further-study rate"),
    "employment_rate": ("就业率", "employment rate"),
    "dual_certificate_rate": ("双证率", "dual-certificate rate"),
    "awards": ("校级及以上获奖数", "awards (school level or above)"),
    "talks_done_rate": ("面谈完成率", "talks done / due"),
    "parent_contacts_done_rate": ("家长联系完成率", "parent contacts done / due"),
    "class_meetings_held": ("主题班会次数（≥3）", "class meetings held (≥3)"),
    "observations_held": ("随堂听课次数（≥3）", "observations (≥3)"),
    "overdue_tasks": ("逾期任务数", "overdue tasks"),
}


def class_indicators(roster: Roster, class_name: str, semester: str, results: Mapping[ResultKey, Result],
                     outcomes: list[Outcome], tasks: list[Task], as_of: date,
                     tracked_kinds: Iterable[str] = ()) -> ClassIndicators:
    info = roster.classes[class_name]
    members = roster.members(class_name)
    start, end = semester_window(semester)
    year = academic_year_end(semester)
    graduates = (graduate_figures(outcomes, roster.graduates(year, class_name=class_name))
                 if graduating_year(info.cohort) == year else None)
    return ClassIndicators(
        class_name=class_name, major=info.major, cohort=info.cohort, head_teacher_id=info.head_teacher_id,
        semester=semester, students=len(members),
        failure=failure_count(results, semester, members),
        cet4=cet_rate(outcomes, CET4, members, end),
        cet6=cet_rate(outcomes, CET6, members, end),
        graduates=graduates,
        awards=awards_by_level(outcomes, members, start, end),
        duties=duty_compliance(tasks, info.head_teacher_id, semester, as_of, members, tracked_kinds),
    )


def all_class_indicators(roster: Roster, semester: str, results, outcomes, tasks, as_of,
                         tracked_kinds: Iterable[str] = ()) -> list[ClassIndicators]:
    return [class_indicators(roster, c.class_name, semester, results, outcomes, tasks, as_of, tracked_kinds)
            for c in roster.classes_where()]


def average_metrics(classes: Iterable[ClassIndicators]) -> dict[str, float | None]:
    """The mean class: each metric averaged over the classes where it is defined (each class weighs one)."""
    classes = list(classes)
    return {key: mean(c.metrics()[key] for c in classes) for key in METRIC_LABELS}


def head_teacher_scorecard(roster: Roster, staff_id: str, semester: str, everyone: list[ClassIndicators]) -> dict:
    """The head teacher's classes, each beside the mean class of its cohort and of the college."""
    mine = [c for c in everyone if c.head_teacher_id == staff_id]
    cohorts = sorted({c.cohort for c in mine})
    return {
        "staff_id": staff_id,
        "name": roster.staff_name(staff_id),
        "semester": semester,
        "classes": [c.to_dict() for c in mine],
        "cohort_average": {str(k): average_metrics(c for c in everyone if c.cohort == k) for k in cohorts},
        "college_average": average_metrics(everyone),
        "class_count": {"college": len(everyone),
                        **{str(k): sum(1 for c in everyone if c.cohort == k) for k in cohorts}},
        "metrics": {k: {"zh": zh, "en": en} for k, (zh, en) in METRIC_LABELS.items()},
    }


# --- department indicators -------------------------------------------------------------------------------------------
def review_status(flag: Mapping, tasks: Iterable[Task], as_of: date) -> dict:
    """The course review advising asked for when the course was flagged: done / open / overdue / none."""
    reviews = [t for t in tasks if t.kind == COURSE_REVIEW and t.semester == flag["semester"]
               and t.course_code == flag["course_code"]]
    if not reviews:
        return {"status": "none", "assignee": None, "due": None, "done_on": None}
    t = sorted(reviews, key=lambda t: t.due)[0]
    status = "done" if t.done else "overdue" if t.overdue(as_of) else "open"
    return {"status": status, "assignee": t.assignee, "due": t.due.isoformat(),
            "done_on": t.done_on.isoformat() if t.done_on else None}


def department_indicators(roster: Roster, major: str, year: int, outcomes: list[Outcome], flags: Iterable[Mapping],
                          tasks: list[Task], as_of: date, intake_year: int | None = None) -> dict:
    """Policy art. 9 for one major and year Y: the intake of Y (enrolment completion; ``intake_year`` names
    another), the graduates of Y (postgraduate admission, employment, dual-certificate, CET pass rates), the
    courses of the academic year (Y-1)-Y flagged for the major's department and their reviews."""
    semesters = set(semesters_of_year(year))
    grads = graduate_figures(outcomes, roster.graduates(year, major=major))
    flagged = [dict(f, review=review_status(f, tasks, as_of)) for f in flags
               if f["semester"] in semesters and f.get("flagged", True) and (f.get("majors") or [None])[0] == major]
    flagged.sort(key=lambda f: (sort_key(f["semester"]), f["course_code"], f["teacher"]))
    intake = year if intake_year is None else intake_year
    enrol = enrolment(outcomes, major, intake)
    return {
        "major": major,
        "year": year,
        "intake_year": intake,
        "enrolment": enrol.to_dict() if enrol else None,
        "graduates": grads.to_dict(),
        "postgraduate_rate": grads.postgraduate.rate,
        "employment_rate": grads.employment.rate,
        "dual_certificate_rate": grads.dual_certificate.rate,
        "cet4_pass_rate": grads.cet4.rate,
        "cet6_pass_rate": grads.cet6.rate,
        "flagged_courses": flagged,
        "reviews": dict(Counter(f["review"]["status"] for f in flagged)),
    }
