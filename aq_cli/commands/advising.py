"""Duties as tasks and records (duties.md): the head-teacher handbook, course reviews, symposium feedback."""
from __future__ import annotations

import json
from pathlib import Path

import click

from aq_cli import output
from aq_cli.common import client

TASK_COLUMNS = ["task_id", "kind", "assignee", "student_id", "class_name", "course_code", "semester", "due",
                "status", "note", "escalated_to"]
ANSWER_WORDS = {"反馈": "feedback", "解决": "resolution", "解释": "explanation"}


def _record(record_json: str | None, fields: tuple[str, ...]) -> dict:
    """The record from --record JSON and/or --field key=value (a value starting with [ is read as JSON)."""
    record = {}
    if record_json:
        try:
            record = json.loads(record_json)
        except ValueError as exc:
            raise click.BadParameter(f"--record is not JSON: {exc}")
        if not isinstance(record, dict):
            raise click.BadParameter("--record must be a JSON object")
    for item in fields:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"--field {item!r}: write key=value")
        if value.strip().startswith("["):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise click.BadParameter(f"--field {key}: not a JSON list: {exc}")
        record[key.strip()] = value
    if not record:
        raise click.UsageError("give the record: --record JSON or --field key=value …")
    return record


def _check(answer: dict, done: str) -> None:
    if answer.get("status") == "rejected":
        raise click.ClickException(answer["message"])
    click.echo(done)


record_options = [
    click.option("--record", "record_json", help='The record as JSON, e.g. \'{"date": "2024-10-08", "place": "办公室"}\''),
    click.option("--field", "fields", multiple=True, metavar="KEY=VALUE",
                 help="One field of the record (repeatable); a value starting with [ is a JSON list."),
]


def with_record(func):
    for option in reversed(record_options):
        func = option(func)
    return func


# --- tasks -----------------------------------------------------------------------------------------------------

@click.group()
def tasks():
    """Duties: talks, parent contacts, class meetings, observations, course reviews…"""


@tasks.command("list")
@click.option("--assignee")
@click.option("--status", type=click.Choice(["open", "submitted", "done", "unfinished", "all"]), default="all",
              show_default=True)
@click.option("--semester")
@click.option("--kind")
@click.option("--student", "student_id")
@click.option("--class", "class_name")
@click.option("--escalated-to", "escalated_to", help="Tasks escalated to this staff member.")
@click.option("--overdue", is_flag=True, help="Only unfinished tasks past their due date.")
@click.option("--json", "as_json", is_flag=True)
def tasks_list(assignee, status, semester, kind, student_id, class_name, escalated_to, overdue, as_json):
    with client() as rpc:
        rows = rpc.call("advising", "list_tasks", assignee, status, semester, kind, student_id, class_name,
                        escalated_to, overdue)
    output.emit(rows, TASK_COLUMNS, as_json)


@tasks.command("show")
@click.argument("task_id")
@click.option("--json", "as_json", is_flag=True)
def tasks_show(task_id, as_json):
    """A task with its record and everything that happened to it."""
    with client() as rpc:
        task = rpc.call("advising", "get_task", task_id)
    if task is None:
        raise click.ClickException(f"no task {task_id}")
    if as_json:
        click.echo(json.dumps(task, ensure_ascii=False, indent=2))
        return
    for key in ("task_id", "kind", "assignee", "student_id", "class_name", "course_code", "semester", "due",
                "status", "note", "escalated_to", "closed_by"):
        if task.get(key):
            click.echo(f"{key:<13} {task[key]}")
    if task.get("outcome"):
        click.echo(f"{'check':<13} {task['outcome'].get('text')}")
    for key, value in (task.get("record") or {}).items():
        click.echo(f"  {key}: {value}")
    for event in task.get("history", ()):
        click.echo(f"  {event['at'][:16]} {event['action']} {event.get('actor') or ''} "
                   f"{json.dumps(event['detail'], ensure_ascii=False)}")


@tasks.command("close")
@click.argument("task_id")
@click.option("--by", "closed_by", required=True, help="Staff id of the owner closing it.")
@with_record
def tasks_close(task_id, closed_by, record_json, fields):
    """Close a task with the record the duty asks for."""
    with client() as rpc:
        answer = rpc.call("advising", "close_task", task_id, closed_by, _record(record_json, fields))
    _check(answer, f"task {task_id} closed")
    if answer.get("follow_up"):
        click.echo(f"follow-up {answer['follow_up']['task_id']} due {answer['follow_up']['due']}")


@tasks.command("submit")
@click.argument("task_id")
@click.option("--by", "submitted_by", required=True, help="Staff id of the teacher or course group submitting.")
@with_record
def tasks_submit(task_id, submitted_by, record_json, fields):
    """Submit a course review (analysis, causes, measures) for the department head's review."""
    with client() as rpc:
        answer = rpc.call("advising", "submit_task", task_id, submitted_by, _record(record_json, fields))
    _check(answer, f"task {task_id} submitted for review by {answer.get('reviewer')}")


@tasks.command("review")
@click.argument("task_id")
@click.option("--by", "reviewer", required=True, help="Staff id of the department head reviewing.")
@click.option("--approve", "decision", flag_value="approve", help="Accept the review: the task is done.")
@click.option("--return", "decision", flag_value="return", help="Send it back (say why with --comment).")
@click.option("--comment")
def tasks_review(task_id, reviewer, decision, comment):
    """The department head approves or returns a submitted course review."""
    if not decision:
        raise click.UsageError("--approve or --return")
    with client() as rpc:
        answer = rpc.call("advising", "review_task", task_id, reviewer, decision, comment)
    _check(answer, f"task {task_id} {answer.get('status')}")


@tasks.command("open-semester")
@click.argument("semester")
@click.option("--start", help="First day of teaching week 1 (YYYY-MM-DD); default: from the semester calendar.")
@click.option("--weeks", type=int, help="Teaching weeks (default: the calendar's, or 18).")
@click.option("--by", "opened_by", default="cli", show_default=True)
def tasks_open_semester(semester, start, weeks, opened_by):
    """Create a semester's recurring duties (class meetings, observations, plans, meetings, tutoring…)."""
    with client() as rpc:
        answer = rpc.call("advising", "open_semester", semester, start, weeks, opened_by)
    _check(answer, f"semester {semester} ({answer.get('start')}, {answer.get('weeks')} weeks): "
                   f"{answer.get('created')} tasks created, {answer.get('already')} already there")
    for problem in answer.get("problems", ()):
        click.echo(f"not assigned: {problem}", err=True)


@tasks.command("semesters")
@click.option("--json", "as_json", is_flag=True)
def tasks_semesters(as_json):
    """Semesters whose recurring duties were created."""
    with client() as rpc:
        rows = rpc.call("advising", "list_semesters")
    output.emit(rows, ["semester", "start", "weeks", "opened_at", "opened_by", "tasks"], as_json)


@tasks.command("remind")
@click.option("--now", help="Test mode only: the moment to remind as of (YYYY-MM-DD or ISO date-time).")
@click.option("--json", "as_json", is_flag=True)
def tasks_remind(now, as_json):
    """Send the reminders and escalations due now (the advising timer does this on its own)."""
    with client() as rpc:
        answer = rpc.call("advising", "run_reminders", now)
    if answer.get("status") == "rejected":
        raise click.ClickException(answer["message"])
    output.emit(answer["reminders"], ["task_id", "task_kind", "reminder", "assignee", "due", "overdue_days",
                                      "escalate_to"], as_json)


@tasks.group("clock")
def tasks_clock():
    """The advising service's clock (moved only in test mode, AQ_TEST_CLOCK=1)."""


@tasks_clock.command("show")
def clock_show():
    with client() as rpc:
        answer = rpc.call("advising", "get_clock")
    click.echo(f"{answer['now']}{' (moved)' if answer['moved'] else ''}")


@tasks_clock.command("set")
@click.argument("when")
def clock_set(when):
    """Move the clock to WHEN (YYYY-MM-DD or ISO date-time); 'real' gives back the real time."""
    with client() as rpc:
        answer = rpc.call("advising", "set_clock", None if when == "real" else when)
    _check(answer, f"advising clock: {answer.get('now')}")


# --- records ---------------------------------------------------------------------------------------------------

@click.group()
def records():
    """Records that closed duties: talks, parent contacts, class meetings, observations…"""


@records.command("list")
@click.option("--assignee")
@click.option("--kind")
@click.option("--semester")
@click.option("--student", "student_id")
@click.option("--class", "class_name")
@click.option("--json", "as_json", is_flag=True)
def records_list(assignee, kind, semester, student_id, class_name, as_json):
    with client() as rpc:
        rows = rpc.call("advising", "list_records", assignee, kind, semester, student_id, class_name)
    output.emit(rows, ["task_id", "kind", "semester", "date", "assignee", "student_id", "class_name",
                       "course_code", "status"], as_json)


@records.command("show")
@click.argument("task_id")
def records_show(task_id):
    """The record of one task."""
    with client() as rpc:
        task = rpc.call("advising", "get_task", task_id)
    if task is None or not task.get("record"):
        raise click.ClickException(f"no record for task {task_id}")
    click.echo(json.dumps(task["record"], ensure_ascii=False, indent=2))


@records.command("add")
@click.argument("task_id")
@click.option("--by", "closed_by", required=True, help="Staff id of the task's owner.")
@with_record
def records_add(task_id, closed_by, record_json, fields):
    """Record that a duty was done (closes its task; the same as `aq tasks close`)."""
    with client() as rpc:
        answer = rpc.call("advising", "close_task", task_id, closed_by, _record(record_json, fields))
    _check(answer, f"task {task_id} closed")
    if answer.get("follow_up"):
        click.echo(f"follow-up {answer['follow_up']['task_id']} due {answer['follow_up']['due']}")


# --- symposium feedback ----------------------------------------------------------------------------------------

@click.group()
def symposium():
    """Mid-term teaching symposium (期中教学座谈会) feedback items."""


@symposium.command("raise")
@click.option("--semester", required=True)
@click.option("--topic", required=True)
@click.option("--course-code")
@click.option("--course-name")
@click.option("--teacher", help="The teacher concerned (name).")
@click.option("--raised-by", required=True, help="Class representative who raised it.")
@click.option("--date", "raised_on", required=True, help="Date of the symposium (YYYY-MM-DD).")
def symposium_raise(semester, topic, course_code, course_name, teacher, raised_by, raised_on):
    """Record one piece of feedback as an item; prints its id."""
    item = {"semester": semester, "topic": topic, "course_code": course_code, "course_name": course_name,
            "teacher": teacher, "raised_by": raised_by, "raised_on": raised_on}
    with client() as rpc:
        answer = rpc.call("advising", "raise_item", item)
    _check(answer, answer.get("item_id", ""))


@symposium.command("route")
@click.argument("item_id")
@click.option("--by", "routed_by", required=True)
@click.option("--department", help="A major: its department head answers.")
@click.option("--teacher", help="A teacher's staff id.")
def symposium_route(item_id, routed_by, department, teacher):
    """Route an item to a department or a teacher (who gets a task to answer it)."""
    with client() as rpc:
        answer = rpc.call("advising", "route_item", item_id, routed_by, department, teacher)
    _check(answer, f"item {item_id} routed to {answer.get('assignee')} (task {answer.get('task_id')})")


@symposium.command("answer")
@click.argument("item_id")
@click.option("--by", "answered_by", required=True)
@click.option("--kind", "answer_kind", required=True,
              type=click.Choice(["feedback", "resolution", "explanation", "反馈", "解决", "解释"]))
@click.option("--answer", required=True)
@click.option("--date", "answered_on", required=True, help="YYYY-MM-DD")
def symposium_answer(item_id, answered_by, answer_kind, answer, answered_on):
    """Answer an item: 反馈 feedback, 解决 resolution or 解释 explanation."""
    record = {"date": answered_on, "answer_kind": ANSWER_WORDS.get(answer_kind, answer_kind), "answer": answer}
    with client() as rpc:
        result = rpc.call("advising", "answer_item", item_id, answered_by, record)
    _check(result, f"item {item_id} answered")


@symposium.command("close")
@click.argument("item_id")
@click.option("--by", "closed_by", required=True)
@click.option("--outcome", required=True, type=click.Choice(["adopted", "explained"]))
def symposium_close(item_id, closed_by, outcome):
    """The vice dean closes an answered item: adopted, or explained."""
    with client() as rpc:
        answer = rpc.call("advising", "close_item", item_id, closed_by, outcome)
    _check(answer, f"item {item_id} {answer.get('status')}")


@symposium.command("list")
@click.option("--open", "open_only", is_flag=True, help="Only items not yet adopted or explained.")
@click.option("--semester")
@click.option("--assignee")
@click.option("--json", "as_json", is_flag=True)
def symposium_list(open_only, semester, assignee, as_json):
    """Items and how long each has been open (days)."""
    with client() as rpc:
        rows = rpc.call("advising", "list_items", open_only, semester, assignee)
    output.emit(rows, ["item_id", "semester", "status", "age_days", "topic", "course_code", "teacher",
                       "routed_to", "assignee", "answer_kind"], as_json)


# --- the handbook ----------------------------------------------------------------------------------------------

@click.group()
def handbook():
    """The head-teacher handbook (班主任手册) as a document."""


@handbook.command("export")
@click.argument("staff_id")
@click.option("--semester", required=True)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="FILE.html or FILE.md")
@click.option("--format", "fmt", type=click.Choice(["html", "md"]), help="Default: from the file's extension.")
def handbook_export(staff_id, semester, out, fmt):
    """Write STAFF_ID's handbook for a semester: duties, records, follow-ups, what is open or overdue."""
    fmt = fmt or ("md" if Path(out).suffix.lower() in (".md", ".markdown") else "html")
    with client() as rpc:
        answer = rpc.call("advising", "export_handbook", staff_id, semester, fmt)
    if answer.get("status") == "rejected":
        raise click.ClickException(answer["message"])
    Path(out).write_text(answer["document"], encoding="utf-8")
    click.echo(f"{out}: {answer['tasks']} tasks")


# --- counselor lists -------------------------------------------------------------------------------------------

LIST_COLUMNS = ["list_id", "semester", "cohort", "version", "students", "warned", "failed", "status", "confirmer",
                "confirmed_by", "confirmed_at", "created_at"]


@click.group()
def advising():
    """Counselor lists: students with warnings or failed courses, per cohort, after each upload (duties.md)."""


@advising.command("lists")
@click.argument("list_id", required=False)
@click.option("--semester")
@click.option("--cohort")
@click.option("--status", type=click.Choice(["unconfirmed", "confirmed", "replaced", "all"]), default="all",
              show_default=True)
@click.option("--confirmer", help="Lists this staff member confirms.")
@click.option("--issue", is_flag=True, help="First issue the lists of semesters that have settled (as the timer does).")
@click.option("--json", "as_json", is_flag=True)
def advising_lists(list_id, semester, cohort, status, confirmer, issue, as_json):
    """List versions, or with LIST_ID one list's students (warning level, failed courses) and recipients."""
    with client() as rpc:
        if issue:
            answer = rpc.call("advising", "issue_lists")
            if answer.get("status") == "rejected":
                raise click.ClickException(answer["message"])
            click.echo(f"issued {len(answer['issued'])} list versions", err=True)
        if list_id:
            found = rpc.call("advising", "get_list", list_id)
            if found is None:
                raise click.ClickException(f"no counselor list {list_id} (aq advising lists)")
            _show_list(found, as_json)
            return
        rows = rpc.call("advising", "list_lists", semester, cohort, status, confirmer)
    output.emit(rows, LIST_COLUMNS, as_json)


def _show_list(found: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    for key in ("list_id", "semester", "cohort", "version", "status", "confirmer", "confirmed_by", "confirmed_at",
                "comment", "task_id", "created_at"):
        if found.get(key) not in (None, ""):
            click.echo(f"{key:13} {found[key]}")
    changes = found["changes"]
    click.echo(f"{'changes':13} +{len(changes['added'])} -{len(changes['removed'])}")
    click.echo(f"{'sent to':13} " + ", ".join(f"{r['staff_id']} ({r['role']}: {len(r['student_ids'])})"
                                              for r in found["recipients"]))
    click.echo("")
    rows = [{"student_id": e["student_id"], "name": e["name"], "class_name": e["class_name"], "level": e["level"],
             "rules": [r["rule"] for r in e["reasons"]],
             "failed_courses": [f"{c['course_code']}({c['result']})" for c in e["failed_courses"]],
             "failed_credits": e["failed_credits"]} for e in found["entries"]]
    output.emit(rows, ["student_id", "name", "class_name", "level", "rules", "failed_courses", "failed_credits"],
                False)


@advising.command("confirm-list")
@click.argument("list_id")
@click.option("--by", "confirmed_by", required=True, help="The counselor's staff id.")
@click.option("--comment", help="A remark kept with the confirmation.")
def advising_confirm_list(list_id, confirmed_by, comment):
    """The counselor confirms a list (its latest version); the confirmation task closes."""
    with client() as rpc:
        answer = rpc.call("advising", "confirm_list", list_id, confirmed_by, comment)
    _check(answer, f"{list_id}: version {answer.get('version')} of cohort {answer.get('cohort')} "
                   f"{answer.get('semester')} confirmed by {confirmed_by}")
