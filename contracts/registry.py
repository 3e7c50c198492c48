"""Every event type: its version, schema, producer and the handlers that subscribe to it.

This table is the topology. Each service declares every queue named here before it publishes anything,
so an event announced before a subscriber's first start waits in that subscriber's queue.
"""
from __future__ import annotations

from dataclasses import dataclass

from contracts import events


@dataclass(frozen=True)
class EventType:
    type: str
    version: int
    schema: type
    producer: str
    subscribers: tuple[tuple[str, str], ...]   # (service, handler)
    summary: str

    @property
    def routing_key(self) -> str:
        return f"{self.type}.v{self.version}"


EVENT_TYPES: tuple[EventType, ...] = (
    EventType("roster.imported", 1, events.RosterImportedSchema, "roster",
              (("assessment", "on_roster_imported"), ("advising", "on_roster_imported")),
              "Classes, students and staff added or changed by a roster import (no contact details)."),
    EventType("grades.records_stored", 1, events.RecordsStoredSchema, "grades",
              (("warnings", "on_records_stored"), ("assessment", "on_records_stored"),
               ("advising", "on_records_stored")),
              "A batch of new or corrected grade records."),
    EventType("grades.upload_completed", 1, events.UploadCompletedSchema, "grades",
              (("assessment", "on_upload_completed"),),
              "All batches of an upload are announced; counts of what it changed."),
    EventType("warnings.changed", 1, events.WarningsChangedSchema, "warnings",
              (("notification", "on_warnings_changed"), ("advising", "on_warnings_changed"),
               ("assessment", "on_warnings_changed")),
              "Academic warnings issued, escalated, downgraded or lifted."),
    EventType("warnings.release_pending", 1, events.ReleasePendingSchema, "warnings",
              (("notification", "on_release_pending"),),
              "A computed warning list opened for review: nothing is announced until academic affairs confirm it."),
    EventType("assessment.course_flags_changed", 1, events.CourseFlagsChangedSchema, "assessment",
              (("notification", "on_course_flags_changed"), ("advising", "on_course_flags_changed")),
              "Courses whose failure rate rose above (or fell back under) the review threshold."),
    EventType("advising.tasks_changed", 1, events.TasksChangedSchema, "advising",
              (("assessment", "on_tasks_changed"), ("notification", "on_tasks_changed")),
              "Duty tasks created, moved or closed."),
    EventType("advising.reminders_due", 1, events.RemindersDueSchema, "advising",
              (("notification", "on_reminders_due"),),
              "Duty tasks due soon, overdue, or escalated to the holder's superior after the grace period."),
    EventType("advising.records_changed", 1, events.RecordsChangedSchema, "advising", (),
              "Records made for duty tasks (talks, meetings, observations…), without their content."),
    EventType("advising.course_review_changed", 1, events.CourseReviewChangedSchema, "advising", (),
              "A flagged course's review submitted, approved or returned, and checked at the next offering."),
    EventType("advising.symposium_changed", 1, events.SymposiumChangedSchema, "advising",
              (("assessment", "on_symposium_changed"),),
              "Mid-term symposium feedback items raised, routed, answered, adopted or explained."),
    EventType("advising.counselor_list_issued", 1, events.CounselorListIssuedSchema, "advising",
              (("notification", "on_counselor_list_issued"),),
              "A cohort's list of students with warnings or failed courses for a semester, to confirm."),
    EventType("gradesystem.results_released", 1, events.ResultsReleasedSchema, "gradesystem",
              (("grades", "on_results_released"),),
              "The school's grade system released results: a batch of grade records, treated like an upload."),
    EventType("grades.results_accepted", 1, events.ResultsAcceptedSchema, "grades", (),
              "Reply to the grade system: a released batch was stored."),
    EventType("grades.results_rejected", 1, events.ResultsRejectedSchema, "grades", (),
              "Reply to the grade system: a released batch was rejected whole, with every problem."),
    EventType("notification.deliveries_recorded", 1, events.DeliveriesRecordedSchema, "notification", (),
              "Outcomes of notice deliveries (sent, failed, unconfirmed) per channel; never a contact."),
    EventType("notification.acknowledgement_overdue", 1, events.AcknowledgementOverdueSchema, "notification",
              (("advising", "on_acknowledgement_overdue"),),
              "Notices to a student or guardian not acknowledged (回执) in time; the head teacher follows up."),
)

BY_TYPE = {e.type: e for e in EVENT_TYPES}


def event_type(name: str) -> EventType:
    try:
        return BY_TYPE[name]
    except KeyError:
        raise KeyError(f"unknown event type {name!r}; add it to contracts/registry.py") from None


def queue_name(service: str, handler: str) -> str:
    return f"aq.{service}.{handler}"


def subscriptions(service: str) -> list[tuple[EventType, str]]:
    """(event type, handler) pairs that ``service`` consumes."""
    return [(e, h) for e in EVENT_TYPES for (s, h) in e.subscribers if s == service]
