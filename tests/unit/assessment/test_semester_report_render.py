"""The semester report renders as HTML and PDF with Chinese text: the charts find every glyph in the CJK font,
and the PDF embeds that font."""
import re
import warnings
import zlib

import pytest

from services.assessment.domain.report import semester_report
from services.assessment.report import charts
from services.assessment.report.fonts import cjk_font_path
from services.assessment.report.render import destinations, pct_delta, render_html, write_report
from tests.unit.assessment.test_semester_report_data import facts


@pytest.fixture(scope="module")
def report():
    return semester_report(facts())


def missing_glyph_warnings(draw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = draw()
    return png, [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_a_cjk_font_is_found():
    assert cjk_font_path() is not None, "install the project (mplfonts) or a CJK font; see docs/indicators.md"


def test_every_chart_draws_its_chinese_labels_with_real_glyphs(report):
    for name, draw in charts.ALL.items():
        png, missing = missing_glyph_warnings(lambda: draw(report))
        assert png is not None and png.startswith(b"\x89PNG"), name
        assert missing == [], f"{name}: {missing[:3]}"


def test_the_glyph_check_would_catch_a_font_without_chinese():
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    ax.set_title("学业预警", fontfamily="DejaVu Sans")
    _, missing = missing_glyph_warnings(lambda: charts._png(fig))
    assert missing


def test_html_has_every_section_and_the_hand_computed_figures(report):
    html = render_html(report, charts={})
    for heading in ("成绩分布与不及格率", "学业预警", "课程不及格率审查", "职责履行", "预警干预效果", "毕业生数据",
                    "各班指标", "期中教学座谈会反馈"):
        assert heading in html
    assert "40.0%" in html and "4/10" in html                     # the college's failure rate, S
    assert "90.0%（45/50）" in html                                 # 机械's intake of 2024, the year's start
    assert "待接入" in html and "advising.symposium_changed" in html   # the placeholder says where from
    assert "蒋涛" in html and "A21、A22" in html
    assert re.search(r"按时面谈.*?</td><td>1</td><td>1</td><td>1</td>", html, re.S)


def test_pdf_embeds_the_cjk_font(report, tmp_path):
    html_path, pdf_path = write_report(report, tmp_path)
    assert html_path.read_text(encoding="utf-8").count("data:image/png;base64,") == len(charts.render_all(report))
    data = pdf_path.read_bytes()
    assert data.startswith(b"%PDF")
    text = data
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            text += zlib.decompress(stream)
        except zlib.error:
            pass
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+AQ-CJK", text)      # the @font-face of the CJK font file


def test_formatting_helpers():
    assert destinations({"employed": 2, "self_employed": 1, "unrecorded": 0}) == "就业 2，创业 1"
    assert pct_delta({"rate": 0.4}, {"rate": 0.5}) == "−10.0 个百分点"
    assert pct_delta(0.5, None) == ""
