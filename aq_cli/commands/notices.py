"""`aq notices …`: what was told to whom and how it went, failures for staff, previews, channels, preferences."""
from __future__ import annotations

import click

from aq_cli import output
from aq_cli.common import client

STATUSES = ("pending", "held", "sending", "sent", "failed", "unconfirmed")


@click.group()
def notices():
    """Notices to students, guardians and staff: e-mail, SMS, chat robots, in-app."""


@notices.command("list")
@click.option("--failed", is_flag=True, help="Only what needs staff: failed (after any fallback) or unconfirmed.")
@click.option("--status", "statuses", multiple=True, type=click.Choice(STATUSES), help="Only these statuses.")
@click.option("--recipient", help="Only this recipient (student id, guardian:<student id>, staff id).")
@click.option("--upload", "correlation_id", help="Only the notices of this upload.")
@click.option("--kind", "kinds", multiple=True, help="Only these notice kinds (warning_formal, task_digest…).")
@click.option("--json", "as_json", is_flag=True)
def notices_list(failed, statuses, recipient, correlation_id, kinds, as_json):
    """List notices, one line per recipient and channel."""
    wanted = list(statuses) or (["failed", "unconfirmed"] if failed else None)
    with client() as rpc:
        rows = rpc.call("notification", "list_notices", recipient, wanted, correlation_id, list(kinds) or None)
    columns = ["notice_id", "recipient_kind", "recipient_id", "channel", "kind", "cause", "status", "attempts"]
    if failed or any(s in ("failed", "unconfirmed", "held", "pending") for s in statuses):
        columns += ["next_attempt_at", "fallback_of", "last_error"]
    output.emit(rows, columns, as_json)


@notices.command("show")
@click.argument("notice_id")
@click.option("--json", "as_json", is_flag=True)
def notices_show(notice_id, as_json):
    """One notice: its status, attempts and the text that was (or will be) sent."""
    with client() as rpc:
        row = rpc.call("notification", "notice", notice_id)
    if row is None:
        raise click.ClickException(f"no notice {notice_id}")
    if as_json:
        output.emit(row, [], True)
        return
    for key in ("notice_id", "kind", "recipient_kind", "recipient_id", "channel", "status", "attempts", "cause",
                "created_at", "sent_at", "next_attempt_at", "fallback_of", "fallbacks", "provider_ref", "last_error"):
        if row.get(key) not in (None, ""):
            click.echo(f"{key:16} {row[key]}")
    click.echo(f"\n{row['subject']}\n\n{row['text']}")
    if row.get("short_text") and row["channel"] == "sms":
        click.echo(f"SMS: {row['short_text']}")


@notices.command("resend")
@click.argument("notice_id")
def notices_resend(notice_id):
    """Deliver a failed or unconfirmed notice again (staff's decision; same Message-ID / client reference)."""
    with client() as rpc:
        answer = rpc.call("notification", "resend", notice_id)
    if answer["status"] != "queued":
        raise click.ClickException(answer["message"])
    click.echo(f"notice {notice_id} queued again")


@notices.command("preview")
@click.argument("kind")
@click.option("--recipient", "recipient_kind", help="Recipient kind, for notices sent to several kinds "
              "(student, guardian, head_teacher, counselor, department_head, vice_dean).")
@click.option("--locale", default="zh", show_default=True, help="zh or en.")
@click.option("--html", "show_html", is_flag=True, help="Print the HTML part instead of the plain text.")
def notices_preview(kind, recipient_kind, locale, show_html):
    """Render an example notice of KIND (warning_issued, warning_escalated, warning_formal, warning_downgraded,
    warning_lifted, course_flagged, task_digest, task_urgent, acknowledgement_reminder) with made-up data (a notice
    that asks for an acknowledgement shows an example link). No service needed."""
    from services.notification.channels.sms import fit, segments
    from services.notification.domain.examples import KINDS, example
    from services.notification.domain.rendering import check_locale, render
    if kind not in KINDS:
        raise click.BadParameter(f"unknown kind {kind!r}; one of: {', '.join(KINDS)}", param_hint="KIND")
    try:
        spec = example(kind, recipient_kind)
        rendered = render(spec, check_locale(locale))
    except ValueError as error:
        raise click.ClickException(str(error))
    click.echo(f"to: {spec.recipient_kind}{'  (asks for an acknowledgement)' if spec.requires_acknowledgement else ''}")
    click.echo(f"subject: {rendered.subject}\n")
    click.echo(rendered.html if show_html else rendered.text)
    sms = fit(rendered.short, 3)
    click.echo(f"SMS ({segments(sms)} segment(s) of 70 characters, {len(sms)} characters): {sms}")


@notices.command("inbox")
@click.argument("recipient_id")
@click.option("--json", "as_json", is_flag=True)
def notices_inbox(recipient_id, as_json):
    """A recipient's in-app inbox."""
    with client() as rpc:
        rows = rpc.call("notification", "inbox", recipient_id)
    output.emit(rows, ["created_at", "notice_id", "subject", "read_at"], as_json)


@notices.command("channels")
@click.option("--json", "as_json", is_flag=True)
def notices_channels(as_json):
    """The enabled channels with their health and settings (no secrets), the routes, quiet hours and digests."""
    with client() as rpc:
        info = rpc.call("notification", "channels")
    if as_json:
        output.emit(info, [], True)
        return
    for channel in info["channels"]:
        state = "healthy" if channel["healthy"] else "UNHEALTHY"
        settings = ", ".join(f"{k}={v}" for k, v in channel["settings"].items())
        click.echo(f"{channel['name']:10} {state:9} {'idempotent ' if channel['idempotent'] else ''}{settings}")
    click.echo("routes:       " + "; ".join(f"{k}={v}" for k, v in info["routes"].items()))
    click.echo(f"locale:       {info['locale']}")
    click.echo(f"quiet hours:  {', '.join(info['quiet_hours']) or 'none'} ({info['timezone']})")
    click.echo(f"task digests: {', '.join(info['digest_times']) or 'off: tasks told at once'}"
               f"{'' if info['tell_tasks'] else ' (task notices off)'}")
    if not all(c["healthy"] for c in info["channels"]):
        raise SystemExit(1)


@notices.command("prefer")
@click.argument("recipient_id")
@click.option("--routes", help='The recipient\'s own routes, e.g. "sms>email" or "in_app,wecom>email".')
@click.option("--locale", help="zh or en.")
@click.option("--clear", is_flag=True, help="Forget the recipient's preferences (back to their kind's).")
def notices_prefer(recipient_id, routes, locale, clear):
    """Set how one recipient is told (channels with fallbacks, language)."""
    if not clear and not routes and not locale:
        raise click.UsageError("give --routes and/or --locale, or --clear")
    with client() as rpc:
        answer = rpc.call("notification", "set_preference", recipient_id, None if clear else routes,
                          None if clear else locale)
    if answer["status"] != "saved":
        raise click.ClickException(answer["message"])
    click.echo(f"{recipient_id}: routes {answer['routes'] or '(default)'}, locale {answer['locale'] or '(default)'}")


@notices.command("digests")
@click.option("--recipient", help="Only this staff member.")
@click.option("--json", "as_json", is_flag=True)
def notices_digests(recipient, as_json):
    """Task assignments and reminders waiting for their staff member's digest."""
    with client() as rpc:
        rows = rpc.call("notification", "task_items", recipient)
    output.emit(rows, ["recipient_id", "task_id", "item_kind", "urgent", "bucket_at"], as_json)


@notices.command("acks")
@click.option("--semester", help="Only this semester (YYYY-YYYY-T).")
@click.option("--missing", is_flag=True, help="Only notices not acknowledged yet (still open).")
@click.option("--student", "student_id", help="Only this student (and their guardian).")
@click.option("--json", "as_json", is_flag=True, help="Everything, with every use of each link (IP, user agent).")
def notices_acks(semester, missing, student_id, as_json):
    """Acknowledgements (回执) of warning notices: asked when, sent through which channels, opened, signed by whom
    through which channel and from which address, reminded, handed to the head teacher (overdue). FLAG "same
    client" marks a guardian's link used from the student's own client (same IP address and browser)."""
    with client() as rpc:
        rows = rpc.call("notification", "acknowledgements", semester, missing, student_id)
    if not as_json:
        for row in rows:
            row["flag"] = "⚑ same client as student" if row["shared_client"] else ""
            row["requested"] = (row["requested_at"] or "")[:16]
            row["signed"] = (row["acknowledged_at"] or "")[:16]
            row["reminded"] = (row["reminded_at"] or "")[:16]
            row["overdue"] = (row["overdue_at"] or "")[:16]
    output.emit(rows, ["student_id", "recipient_kind", "semester", "level", "status", "requested", "sent_via",
                       "opened_count", "signed", "signer_name", "ack_channel", "ack_ip", "reminded", "overdue",
                       "flag"], as_json)
