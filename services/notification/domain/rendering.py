"""Words a NoticeSpec as a subject, a plain text and an HTML body, with the Jinja2 templates of its locale.

Templates live in ``services/notification/templates/<locale>/``: ``<name>.txt.j2`` (which sets ``subject``),
``<name>.html.j2`` and, for notices that may go by SMS, ``<name>.sms.j2`` (the short text; without one the SMS says
the subject and where to read the rest: ``_default.sms.j2``). Only the HTML templates are autoescaped: course names
and student names come from uploaded files, and must not become markup in a mail reader; plain text must stay as
written. Chinese (``zh``) is the college's language and the default; English (``en``) is available. A locale that
lacks a template falls back to Chinese.

Numbers are formatted here, not in the templates, because the rules are the same in every language: a GPA shows
2 decimals (policy.md §3: "2 decimals only for display"), credits show as few as they need (5, 2.5).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import BuiltinMethodType

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.runtime import Context, Macro
from markupsafe import escape

from services.notification.domain.recipients import NoticeSpec

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
DEFAULT_LOCALE = "zh"
LOCALES = ("zh", "en")

# Measures shown with a fixed number of decimals; any other measure (credits, a plugin's count) as few as it needs.
MEASURE_DECIMALS = {"gpa": 2}


# Stands in for a notice's own acknowledgement link while the texts are rendered (``with_link``): letters and digits
# only, so HTML-escaping leaves it as it is.
LINK_STAND_IN = "aqAckLinkStandIn5e0c1b7d"


@dataclass(frozen=True)
class RenderedNotice:
    subject: str
    text: str
    html: str
    short: str = ""     # the SMS text

    def with_link(self, url: str) -> "RenderedNotice":
        """These texts, rendered with LINK_STAND_IN as ``ack.url``, with the notice's own link in its place: one
        rendering serves every channel of a notice that asks for an acknowledgement (each notice has its own link).
        The same texts as rendering with ``url`` itself, because templates print the link as it is
        (``{{ ack.url }}``: escaped in HTML, as here); tests/unit/notification/test_ack_templates.py checks it."""
        escaped = str(escape(url))
        return RenderedNotice(subject=self.subject.replace(LINK_STAND_IN, url),
                              text=self.text.replace(LINK_STAND_IN, url),
                              html=self.html.replace(LINK_STAND_IN, escaped),
                              short=self.short.replace(LINK_STAND_IN, url))


def normalise_locale(locale: str | None) -> str:
    """``"en-US"`` -> ``"en"``, ``"zh_CN"`` -> ``"zh"``; anything unknown -> the default (Chinese)."""
    if not locale:
        return DEFAULT_LOCALE
    base = locale.replace("_", "-").split("-")[0].lower()
    return base if base in LOCALES else DEFAULT_LOCALE


def check_locale(locale: str) -> str:
    base = locale.replace("_", "-").split("-")[0].lower()
    if base not in LOCALES:
        raise ValueError(f"unknown locale {locale!r} (available: {', '.join(LOCALES)})")
    return base


@lru_cache(maxsize=4096)     # a notice prints ~13 numbers, nearly all of them credits: a handful of values
def number(value: float | int | None) -> str:
    """5.0 -> "5", 2.5 -> "2.5", 1.666… -> "1.67"."""
    if value is None:
        return ""
    return f"{round(float(value), 2):g}"


def measure(value: float, rule: str) -> str:
    decimals = MEASURE_DECIMALS.get(rule)
    return f"{float(value):.{decimals}f}" if decimals is not None else number(value)


def percent(fraction: float | None) -> str:
    """0.2345 -> "23.5%", 0.15 -> "15%"."""
    if fraction is None:
        return ""
    return f"{round(float(fraction) * 100, 1):g}%"


class _NoticeContext(Context):
    """Jinja's render context with the two calls a notice makes most taken directly: ~28 macro calls
    (``sem(semester)``, ``reason_line(r)``…) and ~14 calls of a dict's ``get`` (``RULES.get(r.rule, r.rule)``) per
    notice. ``Context.call`` first asks every callable whether it wants the context, the eval context or the
    environment (four attribute lookups per call): a macro always takes the eval context and nothing else, and a
    built-in method (which cannot be marked to take anything) takes nothing. Any other callable goes Jinja's way."""

    def call(__self, __obj, *args, **kwargs):     # noqa: N805 (Jinja's own signature: a macro may take "self")
        kind = type(__obj)
        if kind is Macro or kind is BuiltinMethodType:
            kwargs.pop("_block_vars", None)        # only for callables that take the context
            kwargs.pop("_loop_vars", None)
            if kind is Macro:
                return __obj(__self.eval_ctx, *args, **kwargs)
            try:
                return __obj(*args, **kwargs)
            except StopIteration:                  # as Jinja does
                return __self.environment.undefined("value was undefined because a callable raised a StopIteration"
                                                    " exception")
        return Context.call(__self, __obj, *args, **kwargs)


class _NoticeEnvironment(Environment):
    """Jinja's environment with two lookups made cheap; they were about half of rendering a notice.

    * ``student.name``: Jinja looks an attribute up first and an item only when that fails. The values of a notice
      are plain dicts, so every lookup raised and caught an AttributeError. A key of a plain dict is taken at once
      here, anything else looked up as Jinja does; the two orders only differ for a key named like a dict method
      (``items``, ``get``…), and a template writing ``x.items`` would mean that key.
    * A template's globals: a plain dict (a copy of the environment's) instead of a ChainMap over them. Every
      ``{% from … import … %}`` compares the importing and the imported template's globals, slowly through a
      ChainMap. The environment's globals are set before the first template loads and never change."""

    def getattr(self, obj, attribute):
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def make_globals(self, d):
        return {**self.globals, **(d or {})}

    context_class = _NoticeContext


def _environment() -> Environment:
    env = _NoticeEnvironment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
        undefined=StrictUndefined,     # a misspelt variable is an error in tests, not a silent gap in a notice
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Templates ship with the code: compiled once per process, not checked on disk at every use (a stat per
        # template and imported template, thousands per upload).
        auto_reload=False,
        # ... and kept in a plain dict: Jinja's default LRU cache reorders a queue under a lock at every lookup, and
        # every notice looks templates up ~6 times ({% from … import %}, {% extends %}). The templates are a few dozen.
        cache_size=-1,
    )
    env.filters.update(num=number, measure=measure, percent=percent)
    return env


_ENV = _environment()


def render(spec: NoticeSpec, locale: str = DEFAULT_LOCALE) -> RenderedNotice:
    locale = normalise_locale(locale)
    values = {
        **spec.context,
        "kind": spec.kind,
        "recipient_kind": spec.recipient_kind,
        "requires_acknowledgement": spec.requires_acknowledgement,
        "ack": spec.context.get("ack"),     # the notice's own acknowledgement link (url, expires_on), or None
    }
    text_module = _template(locale, spec.template, "txt").make_module(values)
    subject = " ".join(str(getattr(text_module, "subject", "")).split())   # one line, whatever the template's layout
    if not subject:
        raise ValueError(f"template {spec.template!r} sets no subject")
    text = _tidy(str(text_module))
    html = _template(locale, spec.template, "html").render(values, subject=subject)
    short = _template(locale, spec.template, "sms", fallback="_default").render(values, subject=subject)
    return RenderedNotice(subject=subject, text=text, html=html, short=_one_line(short))


@lru_cache(maxsize=None)
def _template(locale: str, name: str, part: str, fallback: str | None = None):
    names = [f"{locale}/{name}.{part}.j2"]
    if fallback:
        names.append(f"{locale}/{fallback}.{part}.j2")
    if locale != DEFAULT_LOCALE:
        names.append(f"{DEFAULT_LOCALE}/{name}.{part}.j2")
        if fallback:
            names.append(f"{DEFAULT_LOCALE}/{fallback}.{part}.j2")
    return _ENV.select_template(names)


def _one_line(text: str) -> str:
    # An SMS is one paragraph: lines joined by a space, but no space after Chinese punctuation.
    return re.sub(r"(?<=[。！？；，、：）】])\s+", "", " ".join(text.split()))


def _tidy(text: str) -> str:
    # Templates are written for readability; the notice gets no trailing spaces and at most one blank line in a row.
    lines = [line.rstrip() for line in text.strip("\n").splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy) + "\n"
