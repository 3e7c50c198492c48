"""An upload's trace says when its warning changes still wait for review (they reach nobody until then)."""
from types import SimpleNamespace

from aq_cli.trace_tree import render

QUIET = SimpleNamespace(settled=True, stuck=[], waiting=[])


def ledgers(waiting):
    return {"warnings": {"emitted": [], "consumed": [], "changes": [], "waiting_for_review": waiting}}


def test_changes_waiting_for_review_are_named_with_what_to_do():
    text = render("U-1", ledgers(3), QUIET)
    assert "waiting for review: 3 warning change(s)" in text and "aq warnings confirm" in text


def test_nothing_is_said_when_nothing_waits():
    assert "waiting for review" not in render("U-1", ledgers(0), QUIET)
