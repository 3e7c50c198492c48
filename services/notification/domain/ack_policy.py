"""Acknowledgements (回执 / 签字): which notices ask for one, when a missing one is reminded and when it becomes
the head teacher's follow-up, how a use of a link is judged, and what the acknowledgement page may show.

Plain Python: no SQL, no nameko. The service layer (``acknowledgements.py``) stores and reads; these rules decide.

Settings (environment; docs/notifications.md "Acknowledgements"):
  AQ_ACK_LEVELS               levels whose issued or escalated warning asks the student and the guardian to
                              acknowledge (default "orange,red,dismissal"; "off" for none)
  AQ_LINK_SECRET              the key that signs the links (a development default; replace it in production)
  AQ_PUBLIC_URL               where the gateway answers /ack/<token> (default http://localhost:8000)
  AQ_ACK_EXPIRY_DAYS          a link works this long after the notice (default 14)
  AQ_ACK_REMIND_DAYS          one reminder this long after the notice, if not acknowledged (default 3)
  AQ_ACK_OVERDUE_DAYS         after this long, the head teacher is asked to contact the family (default 7)
  AQ_ACK_SAME_CLIENT_MINUTES  a guardian's link used from the student's client (same IP address and browser)
                              within this many minutes of the student's own link is flagged (default 30)
  AQ_ACK_POLL_SECONDS         how often the timer looks for due reminders (default 60; read by service.py)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

from services.notification.domain.recipients import GUARDIAN, STUDENT, NoticeSpec

DEFAULT_LEVELS = ("orange", "red", "dismissal")
ROLES = (STUDENT, GUARDIAN)                    # who acknowledges; staff never do
ASKING_CHANGES = ("issued", "escalated")       # a downgrade or a lift is told, not acknowledged
# Signs links on a developer's machine. Anyone who knows it can make links: docs/notifications.md says to replace it.
DEV_SECRET = "aq-dev-link-secret-REPLACE-ME"
DEFAULT_PUBLIC_URL = "http://localhost:8000"

# Statuses of an acknowledgement request.
OPEN = "open"                  # asked, not acknowledged
ACKNOWLEDGED = "acknowledged"
SUPERSEDED = "superseded"      # a newer notice to the same person asks for an acknowledgement instead
WITHDRAWN = "withdrawn"        # the warning was lifted before anyone acknowledged
STATUSES = (OPEN, ACKNOWLEDGED, SUPERSEDED, WITHDRAWN)

# Notice kind and template of the one reminder.
REMINDER_KIND = "acknowledgement_reminder"
REMINDER_TEMPLATE = "ack_reminder"

SIGNER_MAX = 50


@dataclass(frozen=True)
class AckSettings:
    levels: frozenset[str] = frozenset(DEFAULT_LEVELS)
    secret: str = field(default=DEV_SECRET, repr=False)      # never in a log line or a repr
    public_url: str = DEFAULT_PUBLIC_URL
    expiry_days: float = 14.0
    remind_days: float = 3.0
    overdue_days: float = 7.0
    same_client_minutes: float = 30.0
    batch_size: int = field(default=200, compare=False)

    def __post_init__(self):
        for name in ("expiry_days", "remind_days", "overdue_days"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"AQ_ACK_{name.upper()} must be a number of days above 0, not {value!r}")
        if self.remind_days >= self.expiry_days:
            raise ValueError(f"AQ_ACK_REMIND_DAYS ({self.remind_days:g}) must be less than AQ_ACK_EXPIRY_DAYS "
                             f"({self.expiry_days:g}): a reminder must carry a link that still works")
        if self.overdue_days < self.remind_days:
            raise ValueError(f"AQ_ACK_OVERDUE_DAYS ({self.overdue_days:g}) must not come before AQ_ACK_REMIND_DAYS "
                             f"({self.remind_days:g}): the family is reminded before the head teacher is asked")
        if self.same_client_minutes < 0:
            raise ValueError("AQ_ACK_SAME_CLIENT_MINUTES must be 0 or more")
        if not self.secret:
            raise ValueError("AQ_LINK_SECRET must not be empty")
        if not self.public_url.startswith(("http://", "https://")):
            raise ValueError(f"AQ_PUBLIC_URL must start with http:// or https://, not {self.public_url!r}")

    @property
    def development_secret(self) -> bool:
        return self.secret == DEV_SECRET

    def expires_at(self, requested_at: datetime) -> datetime:
        return requested_at + timedelta(days=self.expiry_days)

    def remind_cutoff(self, now: datetime) -> datetime:
        """Requests made at or before this moment are due their reminder."""
        return now - timedelta(days=self.remind_days)

    def overdue_cutoff(self, now: datetime) -> datetime:
        return now - timedelta(days=self.overdue_days)

    @property
    def same_client_window(self) -> timedelta:
        return timedelta(minutes=self.same_client_minutes)


def _days(env: Mapping[str, str], name: str, default: float) -> float:
    text = str(env.get(name, "") or "").strip()
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {text!r}") from None


def parse_levels(text: str | None) -> frozenset[str]:
    """``"orange,red,dismissal"`` -> the levels; ``"off"`` or ``"none"`` -> no level asks for an acknowledgement."""
    if text is None or not text.strip():
        return frozenset(DEFAULT_LEVELS)
    if text.strip().lower() in ("off", "none"):
        return frozenset()
    levels = frozenset(part.strip().lower() for part in text.split(",") if part.strip())
    unknown = levels - {"yellow", "orange", "red", "dismissal"}
    if unknown:
        raise ValueError(f"AQ_ACK_LEVELS: unknown level(s) {', '.join(sorted(unknown))} "
                         "(levels: yellow, orange, red, dismissal)")
    return levels


def load(env: Mapping[str, str]) -> AckSettings:
    return AckSettings(
        levels=parse_levels(env.get("AQ_ACK_LEVELS")),
        secret=env.get("AQ_LINK_SECRET") or DEV_SECRET,
        public_url=(env.get("AQ_PUBLIC_URL") or DEFAULT_PUBLIC_URL).strip(),
        expiry_days=_days(env, "AQ_ACK_EXPIRY_DAYS", 14.0),
        remind_days=_days(env, "AQ_ACK_REMIND_DAYS", 3.0),
        overdue_days=_days(env, "AQ_ACK_OVERDUE_DAYS", 7.0),
        same_client_minutes=_days(env, "AQ_ACK_SAME_CLIENT_MINUTES", 30.0),
    )


# --- which notices ask ----------------------------------------------------------------------------------------

def asks(change: Mapping[str, Any], recipient_kind: str, settings: AckSettings) -> bool:
    """Does this warning change's notice to this recipient ask for an acknowledgement?"""
    return (change["kind"] in ASKING_CHANGES and change["new_level"] in settings.levels
            and recipient_kind in ROLES)


def mark(specs: Iterable[NoticeSpec], changes: Mapping[str, Mapping[str, Any]],
         settings: AckSettings) -> list[NoticeSpec]:
    """The specs with ``requires_acknowledgement`` set by the configured levels (the audience table's ``formal``
    chooses the wording of the 学业预警通知书; whether it asks for a 回执 is the college's setting)."""
    marked = []
    for spec in specs:
        change = changes.get(spec.cause)
        wanted = bool(change) and asks(change, spec.recipient_kind, settings)
        marked.append(spec if spec.requires_acknowledgement == wanted
                      else replace(spec, requires_acknowledgement=wanted))
    return marked


def reminder_spec(request: Mapping[str, Any], context: Mapping[str, Any]) -> NoticeSpec:
    """The one reminder of an acknowledgement request, to the same recipient, about the same notice."""
    return NoticeSpec(kind=REMINDER_KIND, recipient_kind=request["recipient_kind"],
                      recipient_id=request["recipient_id"], cause=reminder_cause(request["ack_id"]),
                      template=REMINDER_TEMPLATE, context=dict(context), requires_acknowledgement=True)


REMINDER_PREFIX = "ack-reminder:"


def reminder_cause(ack_id: str) -> str:
    return REMINDER_PREFIX + ack_id


def ack_id_of_reminder(cause: str) -> str | None:
    return cause[len(REMINDER_PREFIX):] if cause.startswith(REMINDER_PREFIX) else None


# --- using a link ---------------------------------------------------------------------------------------------

def sibling_role(role: str) -> str:
    return GUARDIAN if role == STUDENT else STUDENT


def same_client(ip: str | None, user_agent: str | None, at: datetime, others: Iterable[Mapping[str, Any]],
                window: timedelta) -> bool:
    """Was the other role's link used from this very client (same IP address AND same browser) within ``window``
    of ``at``? A family may share a computer, so this is flagged for the head teacher, never refused."""
    if not ip or not user_agent:
        return False
    return any(o.get("ip") == ip and o.get("user_agent") == user_agent and abs(o["at"] - at) <= window
               for o in others)


def check_signer(name: Any) -> str:
    """The signer's name as typed (trimmed), or ValueError saying what is wrong."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("signer_name is required: the name of the person acknowledging (签字)")
    name = " ".join(name.split())
    if len(name) > SIGNER_MAX:
        raise ValueError(f"signer_name is too long ({len(name)} characters, at most {SIGNER_MAX})")
    return name


def mask_name(name: str | None) -> str:
    """张三 -> 张*, 欧阳明月 -> 欧**月, Li Lei -> L* L*i: enough for a family to recognise, little for anyone else."""
    if not name:
        return ""
    if " " in name.strip():
        return " ".join(mask_name(part) for part in name.split())
    if len(name) <= 2:
        return name[0] + "*" * (len(name) - 1)
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_student_id(student_id: str | None) -> str:
    """210301001 -> 2103***01."""
    if not student_id:
        return ""
    if len(student_id) <= 4:
        return student_id[0] + "*" * (len(student_id) - 1)
    if len(student_id) <= 6:
        return student_id[:2] + "*" * (len(student_id) - 2)
    return student_id[:4] + "*" * (len(student_id) - 6) + student_id[-2:]


def page(request: Mapping[str, Any], context: Mapping[str, Any], *, locale: str | None,
         acknowledged: bool) -> dict[str, Any]:
    """What the acknowledgement page shows: whose notice (masked), the level, why, what happens next, and whether
    it was acknowledged. No contact, no class, no full name: whoever holds the link sees only this."""
    student = context.get("student") or {}
    return {
        "role": request["recipient_kind"],
        "student": {"name": mask_name(student.get("name")), "id": mask_student_id(student.get("id"))},
        "semester": request["semester"],
        "level": request["level"],
        "change": context.get("change"),
        "old_level": context.get("old_level"),
        "escalated": bool(context.get("escalated")),
        "reasons": list(context.get("reasons") or []),
        "follow_up": context.get("follow_up"),
        "locale": locale or "zh",
        "acknowledged": acknowledged,
    }
