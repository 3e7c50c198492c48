"""A warning policy: a version, whether escalation applies, and the rules with their thresholds (policy.md §4).

The policy is configuration — a YAML file — so a college changes thresholds or adds a rule without touching
service code::

    version: default-1          # recorded on every warning and change
    escalation: true            # a warning after a warned previous semester rises one level
    rules:                      # rule name (entry point of aq.warning_rules) -> its section
      gpa:
        thresholds: {yellow: 2.0, orange: 1.8}
        min_graded_credits: 20  # any other key is an option of the rule
    review:                     # optional; review before release is on unless switched off
      required: true            # computed warnings wait as "pending review" until staff confirm them
      objection_window_hours: 0 # after confirmation, hours before the cascade (notices, tasks) starts

A file that cannot be used raises ``PolicyError`` saying what is wrong and where; a service must not start on a
policy it cannot apply.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from services.warnings.domain.rules import Rule, available_rules, load_rule

DEFAULT_POLICY_PATH = Path(__file__).resolve().parents[1] / "policies" / "default.yml"

_KEYS = ("version", "escalation", "rules", "review")
_REVIEW_KEYS = ("required", "objection_window_hours")


class PolicyError(ValueError):
    """The policy file or data cannot be used; the message says why."""


@dataclass(frozen=True)
class Policy:
    version: str
    escalation: bool
    rules: tuple[Rule, ...]
    review_required: bool = True            # art. 4: staff confirm a computed list before it is announced
    objection_window_hours: float = 0.0     # between confirmation and release, for objections

    @property
    def rule_names(self) -> tuple[str, ...]:
        return tuple(rule.name for rule in self.rules)

    @classmethod
    def from_dict(cls, data: Any, rule_classes: Mapping[str, type[Rule]] | None = None) -> "Policy":
        """Build a policy from parsed YAML. ``rule_classes`` replaces entry-point discovery (tests, tools)."""
        if not isinstance(data, Mapping):
            raise PolicyError("a policy must be a mapping with version, escalation and rules")
        unknown = sorted(set(data) - set(_KEYS), key=str)
        if unknown:
            raise PolicyError(f"unknown key(s) {', '.join(map(str, unknown))} (a policy has {', '.join(_KEYS)})")
        version = data.get("version")
        if not isinstance(version, str) or not version.strip():
            raise PolicyError(f"version must be a non-empty string (quote it in YAML), not {version!r}")
        escalation = data.get("escalation", True)
        if not isinstance(escalation, bool):
            raise PolicyError(f"escalation must be true or false, not {escalation!r}")
        sections = data.get("rules")
        if not isinstance(sections, Mapping) or not sections:
            raise PolicyError("rules must map at least one rule name to its section")
        find = _finder(rule_classes)
        rules = []
        for name, section in sections.items():
            rule_class = find(str(name))
            try:
                rules.append(rule_class.from_section(str(name), section))
            except (ValueError, TypeError) as exc:
                raise PolicyError(f"rule {name}: {exc}") from exc
        review_required, objection_window_hours = _review_section(data.get("review"))
        return cls(version=version.strip(), escalation=escalation, rules=tuple(rules),
                   review_required=review_required, objection_window_hours=objection_window_hours)

    @classmethod
    def from_file(cls, path: str | Path, rule_classes: Mapping[str, type[Rule]] | None = None) -> "Policy":
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise PolicyError(f"{path}: cannot read the policy file ({exc.strerror or exc})") from exc
        except UnicodeDecodeError as exc:
            raise PolicyError(f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})") from exc
        return cls.from_text(text, str(path), rule_classes)

    @classmethod
    def from_text(cls, text: str, source: str = "policy", rule_classes: Mapping[str, type[Rule]] | None = None
                  ) -> "Policy":
        """Build a policy from the text of a policy file (``aq policy what-if`` sends the text, not a path).
        Every error message starts with ``source``."""
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise PolicyError(f"{source}: not valid YAML: {exc}") from exc
        try:
            return cls.from_dict(data, rule_classes)
        except PolicyError as exc:
            raise PolicyError(f"{source}: {exc}") from exc


def _review_section(section: Any) -> tuple[bool, float]:
    if section is None:
        return True, 0.0
    if not isinstance(section, Mapping):
        raise PolicyError("review must be a mapping with required (true/false) and objection_window_hours")
    unknown = sorted(set(section) - set(_REVIEW_KEYS), key=str)
    if unknown:
        raise PolicyError(f"review: unknown key(s) {', '.join(map(str, unknown))} "
                          f"(review has {', '.join(_REVIEW_KEYS)})")
    required = section.get("required", True)
    if not isinstance(required, bool):
        raise PolicyError(f"review.required must be true or false, not {required!r}")
    hours = section.get("objection_window_hours", 0)
    if isinstance(hours, bool) or not isinstance(hours, (int, float)) or hours < 0 or hours != hours:
        raise PolicyError(f"review.objection_window_hours must be a number ≥ 0, not {hours!r}")
    return required, float(hours)


def load_default_policy() -> Policy:
    """The college's default policy (policy.md §4), shipped with the service."""
    return Policy.from_file(DEFAULT_POLICY_PATH)


def _finder(rule_classes: Mapping[str, type[Rule]] | None) -> Callable[[str], type[Rule]]:
    def find(name: str) -> type[Rule]:
        if rule_classes is not None:
            if name in rule_classes:
                return rule_classes[name]
            known = sorted(rule_classes)
        else:
            try:
                return load_rule(name)
            except KeyError:
                known = sorted(available_rules())
            except (ImportError, AttributeError, TypeError) as exc:
                raise PolicyError(f"rule {name}: its plugin cannot be loaded: {exc}") from exc
        raise PolicyError(f"unknown rule {name!r} (available rules: {', '.join(known) or 'none'})")
    return find
