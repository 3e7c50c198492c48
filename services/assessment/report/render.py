"""The semester report as one self-contained HTML file (charts inlined) and as PDF (WeasyPrint, the same HTML
with the CJK font embedded). Used by ``aq report semester`` and any other front end."""
from __future__ import annotations

import base64
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.assessment.domain.intervention import GROUP_LABELS
from services.assessment.domain.indicators import METRIC_LABELS
from services.assessment.domain.outcomes import AWARD_LEVEL_ZH, DESTINATION_ZH
from services.assessment.report import charts as charts_module
from services.assessment.report.fonts import cjk_font

TEMPLATES = Path(__file__).parent / "templates"
REVIEW_ZH = {"done": "已完成", "open": "进行中", "overdue": "已逾期", "none": "未建任务"}
KIND_ZH = {"talk": "一对一面谈", "parent_contact": "家长联系", "counselor_talk": "辅导员约谈",
           "integrity_talk": "诚信谈话", "course_review": "课程整改分析", "class_meeting": "主题班会",
           "observation": "随堂听课", "classroom_observation": "随堂听课"}
SYMPOSIUM_ZH = {"raised": "已提出", "routed": "已转办", "answered": "已答复", "adopted": "已采纳", "explained": "已解释"}
ROLE_ZH = {"head_teacher": "班主任", "counselor": "辅导员", "department_head": "系主任", "vice_dean": "教学副院长",
           "deputy_secretary": "学工副书记", "academic_affairs": "教务员"}


def pct(value, digits: int = 1) -> str:
    if isinstance(value, dict):
        value = value.get("rate")
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def frac(ratio: dict | None) -> str:
    if not ratio:
        return "—"
    return f"{ratio['numerator']}/{ratio['denominator']}"


def delta(value) -> str:
    if value is None:
        return ""
    return f"+{value}" if value > 0 else ("±0" if value == 0 else f"−{-value}")


def pct_delta(now, before) -> str:
    """Change of a rate in percentage points."""
    if isinstance(now, dict):
        now = now.get("rate")
    if isinstance(before, dict):
        before = before.get("rate")
    if now is None or before is None:
        return ""
    points = (now - before) * 100
    return f"{'+' if points > 0 else '−' if points < 0 else '±'}{abs(points):.1f} 个百分点"


def destinations(counts: dict) -> str:
    """{"employed": 3, "unrecorded": 1} -> "就业 3，未登记 1" (zero counts left out)."""
    names = {**DESTINATION_ZH, "unrecorded": "未登记"}
    return "，".join(f"{names.get(k, k)} {n}" for k, n in counts.items() if n)


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(pct=pct, frac=frac, delta=delta, pct_delta=pct_delta, destinations=destinations)
    return env


def render_html(report: dict, charts: dict[str, bytes] | None = None, *, font_url: str | None = None) -> str:
    """``font_url``: where the PDF renderer finds the CJK font (a browser uses the system's own fonts)."""
    if charts is None:
        charts = charts_module.render_all(report)
    images = {name: "data:image/png;base64," + base64.b64encode(png).decode("ascii") for name, png in charts.items()}
    return _environment().get_template("semester_report.html.j2").render(
        r=report, charts=images, font_url=font_url, group_labels=GROUP_LABELS, metric_labels=METRIC_LABELS,
        review_zh=REVIEW_ZH, symposium_zh=SYMPOSIUM_ZH, kind_zh=KIND_ZH, role_zh=ROLE_ZH, destination_zh=DESTINATION_ZH,
        award_zh=AWARD_LEVEL_ZH)


def render_pdf(report: dict, charts: dict[str, bytes] | None = None) -> bytes:
    from weasyprint import HTML
    html = render_html(report, charts, font_url=cjk_font().resolve().as_uri())
    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()


def write_report(report: dict, out_dir: str | Path, formats=("html", "pdf")) -> list[Path]:
    """Write ``semester-report-<semester>.html`` / ``.pdf`` into ``out_dir``; returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    charts = charts_module.render_all(report)
    stem = f"semester-report-{report['semester']}"
    written = []
    if "html" in formats:
        path = out / f"{stem}.html"
        path.write_text(render_html(report, charts), encoding="utf-8")
        written.append(path)
    if "pdf" in formats:
        path = out / f"{stem}.pdf"
        path.write_bytes(render_pdf(report, charts))
        written.append(path)
    return written
