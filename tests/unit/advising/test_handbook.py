"""The head teacher's handbook (班主任手册) for a semester, as HTML or Markdown."""
from datetime import date

import pytest

from services.advising.domain.handbook import handbook, render


def task(task_id, kind, status="open", due="2024-10-13", record=None, **extra):
    return {"task_id": task_id, "kind": kind, "status": status, "due": due, "semester": "2024-2025-1",
            "record": record, "student_id": extra.pop("student_id", None), "class_name": "机械2401",
            "detail": extra.pop("detail", {}), "history": extra.pop("history", []), **extra}


TASKS = [
    task("T-m1", "class_meeting", "done", record={"date": "2024-10-10", "topic": "学习方法交流", "attendance": 31},
         detail={"number": 1, "of": 3, "scope": "机械2401"}),
    task("T-m2", "class_meeting", detail={"number": 2, "of": 3, "scope": "机械2401"}, due="2024-11-17"),
    task("T-t1", "talk", "done", student_id="240101001",
         record={"date": "2024-10-05", "place": "办公室 <b>302</b>", "discussion": "挂科原因",
                 "support_plan": "每周答疑", "follow_up": "2024-11-02"},
         history=[{"at": "2024-10-12T09:00:00+08:00", "action": "reminded", "actor": None,
                   "detail": {"reminder": "due_soon"}},
                  {"at": "2024-10-20T09:00:00+08:00", "action": "moved", "actor": "roster",
                   "detail": {"from": "T1001", "to": "T1010"}}]),
    task("T-f1", "follow_up", student_id="240101001", due="2024-11-02", escalated_to="C2024",
         detail={"support_plan": "每周答疑"}),
    task("T-x", "talk", semester="2023-2024-2"),
]
TASKS[-1]["semester"] = "2023-2024-2"


@pytest.fixture
def content():
    return handbook("T1010", "2024-2025-1", TASKS, names={"240101001": "蔡涛"}, staff_name="蒋宇超",
                    today=date(2024, 11, 10))


def test_sections_in_handbook_order_with_counts_against_the_policy(content):
    assert [s["kind"] for s in content["sections"]] == ["class_meeting", "talk", "follow_up"]
    summary = {row["title"].split()[0]: row for row in content["summary"]}
    assert (summary["专题班会"]["done"], summary["专题班会"]["total"], summary["专题班会"]["required"]) == (1, 2, "≥ 3 × 1")
    assert summary["帮扶跟进"]["overdue"] == 1 and content["overdue"] == 1
    assert content["classes"] == ["机械2401"]


def test_html_shows_records_history_and_overdue_and_escapes_what_people_typed(content):
    html = render(content, "html")
    assert "蔡涛 (240101001)" in html and "学习方法交流" in html and "每周答疑" in html
    assert "办公室 &lt;b&gt;302&lt;/b&gt;" in html and "<b>302</b>" not in html
    assert "逾期 8 天" in html and "escalated to C2024" in html
    assert "转交 moved (roster): T1001 → T1010" in html
    assert "2023-2024-2" not in html


def test_markdown_reads_as_a_document(content):
    text = render(content, "md")
    assert text.startswith("# 班主任手册")
    assert "| 专题班会 Themed class meetings | 1 | 2 | ≥ 3 × 1 | 0 |" in text
    assert "- **地点 Place**: 办公室 <b>302</b>" in text
    with pytest.raises(ValueError):
        render(content, "pdf")
