"""The semester report's charts (matplotlib, Agg), as PNG bytes. Each takes the report dict of
services/assessment/domain/report.py and returns None when there is nothing to draw."""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

from services.assessment.report.fonts import matplotlib_family  # noqa: E402
from shared.academic.vocabulary import LEVEL_TITLE_ZH, LEVEL_ZH, LEVELS  # noqa: E402

LEVEL_COLOURS = {"yellow": "#e8c547", "orange": "#ec8a2f", "red": "#d2453a", "dismissal": "#5e2a84"}
LEVEL_ZH = {level: LEVEL_ZH[level] for level in LEVELS}          # in level order; the keys are what is drawn
BAND_COLOURS = ("#1f6f4a", "#4f9d69", "#8cc084", "#d7e3a1", "#d2453a", "#9fb3c8")
NOW, BEFORE = "#2f5d8a", "#a9bfd6"
DPI = 150


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _figure(width: float, height: float):
    matplotlib_family()
    fig, ax = plt.subplots(figsize=(width, height))
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def group_label(cohort, major: str) -> str:
    return f"{cohort}级 {major}"


def grade_distribution(report: dict) -> bytes | None:
    rows = [r for r in report["grades"]["groups"] if sum(r["distribution"].values())]
    if not rows:
        return None
    bands = report["bands"]
    fig, ax = _figure(8.6, 0.42 * len(rows) + 1.6)
    labels = [group_label(r["cohort"], r["major"]) for r in rows][::-1]
    left = [0.0] * len(rows)
    for band, colour in zip(bands, BAND_COLOURS):
        shares = [r["distribution"][band] / sum(r["distribution"].values()) for r in rows][::-1]
        ax.barh(labels, shares, left=left, color=colour, label=band, edgecolor="white", linewidth=0.5)
        for i, (x, share) in enumerate(zip(left, shares)):
            if share >= 0.07:
                ax.text(x + share / 2, i, f"{share:.0%}", ha="center", va="center", fontsize=7,
                        color="white" if colour in (BAND_COLOURS[0], BAND_COLOURS[1], BAND_COLOURS[4]) else "black")
        left = [a + b for a, b in zip(left, shares)]
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlim(0, 1)
    ax.set_title(f"{report['semester']} 正常考试成绩分布（按年级、专业，人次）", fontsize=11)
    ax.legend(ncol=3, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
    return _png(fig)


def failure_rates(report: dict) -> bytes | None:
    rows = [r for r in report["grades"]["groups"] if r["failure"]["results"]["denominator"]]
    if not rows:
        return None
    fig, ax = _figure(8.6, 0.5 * len(rows) + 1.4)
    labels = [group_label(r["cohort"], r["major"]) for r in rows][::-1]
    now = [r["failure"]["rate"] or 0 for r in rows][::-1]
    before = [((r["previous_failure"] or {}).get("rate") or 0) for r in rows][::-1]
    ys = range(len(rows))
    ax.barh([y + 0.2 for y in ys], before, height=0.38, color=BEFORE,
            label=f"上学期 {report['previous_semester'] or ''}")
    ax.barh([y - 0.2 for y in ys], now, height=0.38, color=NOW, label=f"本学期 {report['semester']}")
    for y, value in zip(ys, now):
        ax.text(value + 0.003, y - 0.2, f"{value:.1%}", va="center", fontsize=7)
    ax.set_yticks(list(ys), labels)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_title("不及格率（不及格人次 ÷ 正常考试人次）", fontsize=11)
    ax.legend(ncol=2, fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.1))
    return _png(fig)


def warnings_by_level(report: dict) -> bytes | None:
    w = report["warnings"]
    if not w["levels"]["total"] and not (w["previous_levels"] or {}).get("total"):
        return None
    fig, ax = _figure(6.2, 3.2)
    levels = list(LEVEL_ZH)
    xs = range(len(levels))
    before = [(w["previous_levels"] or {}).get(level, 0) for level in levels]
    now = [w["levels"][level] for level in levels]
    ax.bar([x - 0.2 for x in xs], before, width=0.38, color=BEFORE, label=f"上学期 {report['previous_semester'] or ''}")
    bars = ax.bar([x + 0.2 for x in xs], now, width=0.38, color=[LEVEL_COLOURS[level] for level in levels],
                  label=f"本学期 {report['semester']}")
    for bar, value in zip(bars, now):
        ax.text(bar.get_x() + bar.get_width() / 2, value, str(value), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(list(xs), [LEVEL_TITLE_ZH[level] for level in levels])
    ax.set_ylabel("学生人数")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title("学业预警人数（按级别）", fontsize=11)
    ax.legend(fontsize=8, frameon=False)
    return _png(fig)


def warnings_by_class(report: dict) -> bytes | None:
    rows = [r for r in report["warnings"]["by_class"] if r["now"]["total"] or (r["previous"] or {}).get("total")]
    if not rows:
        return None
    fig, ax = _figure(8.6, 0.36 * len(rows) + 1.4)
    labels = [r["key"] for r in rows][::-1]
    left = [0] * len(rows)
    for level in LEVEL_ZH:
        values = [r["now"][level] for r in rows][::-1]
        ax.barh(labels, values, left=left, color=LEVEL_COLOURS[level], label=f"{LEVEL_ZH[level]}（本学期）")
        left = [a + b for a, b in zip(left, values)]
    previous = [(r["previous"] or {}).get("total", 0) for r in rows][::-1]
    ax.scatter(previous, labels, marker="|", s=160, color="black", zorder=3, label="上学期合计")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("学生人数")
    ax.set_title("各班学业预警人数（竖线为上学期合计）", fontsize=11)
    ax.legend(ncol=4, fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.16))
    return _png(fig)


def intervention(report: dict) -> bytes | None:
    # Only a comparison is worth a picture: at least two talk groups with students judged.
    effects = [e for e in report["intervention"]
               if sum(1 for g in e["groups"].values() if g["evaluated"]) >= 2]
    if not effects:
        return None
    fig, ax = _figure(6.6, 3.0)
    labels, rates, counts = [], [], []
    from services.assessment.domain.intervention import GROUP_LABELS
    effect = effects[0]
    for group, (zh, _) in GROUP_LABELS.items():
        g = effect["groups"][group]
        if g["warned"]:
            labels.append(zh)
            rates.append(g["improved_rate"]["rate"] or 0)
            counts.append(f"{g['improved']}/{g['evaluated']}")
    bars = ax.bar(labels, rates, color=["#2f7d4f", "#c9a227", "#d2453a", "#8a8a8a"][:len(labels)])
    for bar, text in zip(bars, counts):
        ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), text, ha="center", va="bottom", fontsize=8)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylim(0, 1.1)
    ax.set_title(f"{effect['semester']} 预警学生在 {effect['next_semester']} 的好转比例（按面谈是否按时）",
                 fontsize=10)
    return _png(fig)


def graduates(report: dict) -> bytes | None:
    by_major = report["graduates"]["by_major"]
    if not by_major:
        return None
    measures = (("employment", "就业率"), ("further_study", "深造率"), ("dual_certificate", "双证率"),
                ("cet4", "CET-4 通过率"))
    majors = sorted(by_major)
    fig, ax = _figure(8.6, 0.9 * len(majors) + 1.6)
    height = 0.8 / len(measures)
    colours = ("#2f5d8a", "#4f9d69", "#c9a227", "#8a6bb0")
    for i, ((key, zh), colour) in enumerate(zip(measures, colours)):
        ys = [m + (i - (len(measures) - 1) / 2) * height for m in range(len(majors))]
        values = [by_major[m][key]["rate"] or 0 for m in majors]
        ax.barh(ys, values, height=height * 0.95, color=colour, label=zh)
        for y, v in zip(ys, values):
            ax.text(v + 0.005, y, f"{v:.0%}", va="center", fontsize=7)
    ax.set_yticks(range(len(majors)), majors)
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlim(0, 1.12)
    ax.set_title(f"{report['graduates']['year']} 届毕业生（按专业）", fontsize=11)
    ax.legend(ncol=4, fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.1))
    return _png(fig)


ALL = {"grade_distribution": grade_distribution, "failure_rates": failure_rates,
       "warnings_by_level": warnings_by_level, "warnings_by_class": warnings_by_class,
       "intervention": intervention, "graduates": graduates}


def render_all(report: dict) -> dict[str, bytes]:
    charts = {}
    for name, draw in ALL.items():
        png = draw(report)
        if png is not None:
            charts[name] = png
    return charts
