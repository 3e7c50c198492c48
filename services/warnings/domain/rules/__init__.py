"""Warning rules are plugins, found through the entry-point group ``aq.warning_rules`` (pyproject.toml).

Another college adds a rule by shipping a ``Rule`` subclass and one entry-point line; a policy file then names it.
"""
from __future__ import annotations

from importlib.metadata import entry_points

from services.warnings.domain.rules.base import History, HistoryRule, Rule, Verdict

GROUP = "aq.warning_rules"

__all__ = ["GROUP", "History", "HistoryRule", "Rule", "Verdict", "available_rules", "load_rule"]


def available_rules() -> dict[str, object]:
    """Rule name -> its entry point (not loaded: a policy loads only the rules it names)."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def load_rule(name: str) -> type[Rule]:
    """The rule class registered as ``name``. KeyError if there is none; TypeError if it is not a Rule."""
    found = available_rules()
    if name not in found:
        raise KeyError(name)
    cls = found[name].load()
    if not (isinstance(cls, type) and issubclass(cls, Rule)):
        raise TypeError(f"entry point {name!r} ({found[name].value}) is not a Rule subclass")
    return cls
