"""退学警示 (dismissal risk, above red) in the semester report: counted, tabled and drawn like the other levels."""
import re
import warnings

from services.assessment.domain.report import semester_report
from services.assessment.report import charts
from services.assessment.report.render import render_html
from tests.unit.assessment.college_fixture import LEVELS, S
from tests.unit.assessment.test_semester_report_data import facts


def report_with_dismissal():
    return semester_report(facts(levels={**LEVELS, ("b1", S): "dismissal"}))     # b1 was red


def test_dismissal_is_counted_as_its_own_level():
    w = report_with_dismissal()["warnings"]
    assert w["levels"] == {"yellow": 0, "orange": 2, "red": 0, "dismissal": 1, "total": 3}
    assert w["change"]["dismissal"] == 1 and w["change"]["red"] == -1
    assert {r["key"]: r for r in w["by_class"]}["B21"]["now"]["dismissal"] == 1


def test_the_tables_have_a_dismissal_column_and_row():
    html = render_html(report_with_dismissal(), charts={})
    assert re.search(r'lv-dismissal">退学警示</td><td>0</td>\s*<td>1</td>', html)
    assert html.count("<th>退学警示</th>") == 2          # by cohort and by class


def test_the_charts_draw_it_with_real_glyphs():
    report = report_with_dismissal()
    for draw in (charts.warnings_by_level, charts.warnings_by_class):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            png = draw(report)
        assert png.startswith(b"\x89PNG")
        assert not [w for w in caught if "missing from font" in str(w.message)]
