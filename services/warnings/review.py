"""Review before release: the decisions, as plain functions (no SQL, no nameko).

A computed change waits in a release batch until academic-affairs staff confirm the batch; only then (after the
policy's objection window, if any) is it announced. In the meantime the college may upload corrections, so for each
(student, semester) at most one change is "held" — waiting (pending / confirmed) or withheld by an exclusion — and
a newer evaluation decides what becomes of it:

    the newest evaluation …                          the held change …
    equals what was announced                        is withdrawn (superseded; an exclusion ends)
    differs from the announced level, and equals     stays (a waiting change takes the newest reasons;
      the held change's new level                      an exclusion sticks)
    differs from both                                is superseded, and a new change (announced → newest)
                                                       waits in the evaluation's own batch

So the list staff see always goes from what people were last told to what the policy says now, and every earlier
computed change is kept with the correlation id of the evaluation that replaced it.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# Where a computed change stands (warning_changes.release_status).
PENDING, CONFIRMED, RELEASED, EXCLUDED, SUPERSEDED = "pending", "confirmed", "released", "excluded", "superseded"
WAITING = (PENDING, CONFIRMED)          # not yet announced; a newer evaluation may still replace it

# What to do with a (student, semester) after an evaluation.
NOTHING, KEEP, REPLACE, WITHDRAW = "nothing", "keep", "replace", "withdraw"

# Batches: pending (staff have not decided), confirmed (waiting for the objection window), released, or superseded
# (a newer evaluation replaced every change it held before anyone confirmed it).
BATCH_PENDING, BATCH_CONFIRMED, BATCH_RELEASED, BATCH_SUPERSEDED = "pending", "confirmed", "released", "superseded"

# Who confirms a batch when the policy switches review off.
AUTOMATIC = "automatic (review off)"


@dataclass(frozen=True)
class Held:
    """A computed change not (yet) announced: waiting for review or release, or excluded by staff."""
    change_id: str
    batch_id: int
    status: str           # pending | confirmed | excluded
    new_level: str        # level word


def next_step(newest_level: str | None, held: Held | None) -> str:
    """What becomes of a (student, semester) after an evaluation.

    ``newest_level`` is the level word the evaluation gives when it differs from the announced level, or None when
    the evaluation agrees with what was announced (no change to announce).
    """
    if newest_level is None:
        return WITHDRAW if held is not None else NOTHING
    if held is not None and held.new_level == newest_level:
        return KEEP
    return REPLACE


def release_moment(confirmed_at: datetime, objection_window_hours: float) -> datetime:
    """When a confirmed batch is announced: at once, or after the objection window."""
    return confirmed_at + timedelta(hours=objection_window_hours)


# --- policy versions -------------------------------------------------------------------------------------------

def version_key(version: str) -> tuple:
    """Versions compare like file names in a natural sort: default-2 < default-10 < default-10a.

    Digit runs compare as numbers, the text between them as text; the parts alternate text, number, text… so two
    keys always compare part by part.
    """
    return tuple(int(part) if index % 2 else part for index, part in enumerate(re.split(r"(\d+)", version.strip())))


@dataclass(frozen=True)
class InstallVerdict:
    action: str           # install | unchanged | rejected
    message: str


def install_verdict(version: str, content: Any, current_version: str, current_content: Any,
                    installed_before: Mapping[str, datetime]) -> InstallVerdict:
    """May a policy of ``version`` (parsed YAML ``content``) replace the one in force?

    ``installed_before`` maps every version installed earlier (the one in force included) to when it was installed.
    The same version with the same content changes nothing; a version already used, or one that sorts before the
    version in force, is refused: a warning names the version that produced it, so a version must never mean two
    different policies.
    """
    if version == current_version:
        if content == current_content:
            return InstallVerdict("unchanged", f"policy {version} is already in force; nothing changed")
        return InstallVerdict("rejected", f"policy {version} is already in force with different content: a changed "
                                          f"policy needs a later version (e.g. {suggest_next(current_version)})")
    if version in installed_before:
        return InstallVerdict("rejected", f"policy {version} was installed on {installed_before[version]:%Y-%m-%d} "
                                          f"and replaced since; versions only move forward (in force: "
                                          f"{current_version})")
    if version_key(version) <= version_key(current_version):
        return InstallVerdict("rejected", f"policy version {version!r} does not come after the version in force, "
                                          f"{current_version!r} (versions compare like default-2 < default-10); "
                                          f"give the new policy a later version, e.g. "
                                          f"{suggest_next(current_version)}")
    return InstallVerdict("install", "")


def suggest_next(version: str) -> str:
    """default-1 -> default-2; a version without a number gets -2."""
    match = re.search(r"(\d+)(\D*)$", version)
    if not match:
        return f"{version}-2"
    return f"{version[:match.start(1)]}{int(match.group(1)) + 1}{match.group(2)}"
