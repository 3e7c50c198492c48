"""Warning policies (docs/warnings.md): check a policy file, and see what it would change before using it."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from aq_cli import output
from aq_cli.common import client
from services.warnings.domain.policy import Policy, PolicyError
from shared.academic.vocabulary import LEVEL_ZH

KIND_WORDS = {"issued": "warned", "escalated": "escalated", "downgraded": "downgraded", "lifted": "lifted"}


@click.group()
def policy():
    """Academic-warning policies (预警策略): check a file, try it (what-if)."""


@policy.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
def check(file):
    """Validate a policy FILE: exit 0 and a summary, or exit 1 and what is wrong. Needs no running services
    (the rules are the plugins installed here)."""
    try:
        loaded = Policy.from_file(file)
    except PolicyError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    review = "review required" if loaded.review_required else "no review"
    if loaded.review_required and loaded.objection_window_hours:
        review += f", {loaded.objection_window_hours:g} h objection window"
    click.echo(f"ok: version {loaded.version}, rules {', '.join(loaded.rule_names)} "
               f"(escalation {'on' if loaded.escalation else 'off'}, {review})")


@policy.command("what-if")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--semester", help="Report only this semester (YYYY-YYYY-T); every semester by default.")
@click.option("--json", "as_json", is_flag=True, help="The whole answer as JSON.")
def what_if(file, semester, as_json):
    """Who would be warned, escalated, downgraded or lifted under the policy FILE, compared with today.

    The warnings service evaluates every student's stored grade records under its running policy and under FILE.
    Nothing is stored, nobody is told."""
    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        click.echo(f"error: {file}: cannot read the policy file ({getattr(exc, 'strerror', None) or exc})", err=True)
        sys.exit(1)
    with client() as rpc:
        answer = rpc.call("warnings", "what_if", text, semester, Path(file).name)
    if answer["status"] != "ok":
        click.echo(f"error: {answer['error']}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return
    _print(answer)


def _print(answer: dict) -> None:
    scope = f"semester {answer['semester']}" if answer["semester"] else "every semester"
    click.echo(f"what-if: {answer['candidate_policy']} instead of the running {answer['current_policy']}, "
               f"{scope}, {answer['students']} students evaluated")
    kinds = answer["by_kind"]
    if not kinds["total"]:
        click.echo("no changes: every student's warnings would stay as they are today")
    else:
        click.echo("would be " + ", ".join(f"{KIND_WORDS[k]} {kinds[k]}" for k in KIND_WORDS)
                   + f" ({kinds['total']} changes)")
    click.echo("\nwarnings by level")
    output.emit([{"level": f"{level} {LEVEL_ZH[level]}", **counts} for level, counts in answer["by_level"].items()],
                ["level", "today", "candidate", "difference"], False)
    if not kinds["total"]:
        click.echo("\nNothing was stored and nobody was told.")
        return
    columns = ["issued", "escalated", "downgraded", "lifted", "total"]
    click.echo("\nchanges by cohort")
    output.emit([{"cohort": key, **counts} for key, counts in answer["by_cohort"].items()], ["cohort"] + columns, False)
    click.echo("\nchanges by class")
    output.emit([{"class_name": key, **counts} for key, counts in answer["by_class"].items()],
                ["class_name"] + columns, False)
    click.echo("\nchanges")
    output.emit(answer["changes"], ["student_id", "name", "cohort", "class_name", "semester", "kind", "old_level",
                                    "new_level", "rules"], False)
    click.echo("\nNothing was stored and nobody was told.")
