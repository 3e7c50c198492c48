"""The web interface as the college's staff use it, in a real browser against the whole system: academic affairs
uploads the sample college's first grades file and watches its cascade settle; the computed warnings wait for
review, so they leave one student out with a reason and confirm the rest, and watch the notices and tasks follow; a
head teacher records a talk with a warned student; the counselor sees it and opens the student's history; the vice
dean reads the dashboard and opens the semester report. And a bad file is rejected with its problems listed row by
row, in Chinese and in English."""
import csv
import json
import re

import pytest

from shared.academic.vocabulary import LEVEL_TITLE_ZH
from tests.support.cluster import SAMPLE

pytestmark = [pytest.mark.real, pytest.mark.e2e]

FIRST_FILE = SAMPLE / "csv" / "uploads" / "01-2021-2022-1-regular.csv"
SEMESTER = "2021-2022-1"
ACADEMIC_AFFAIRS, VICE_DEAN = "A0001", "V0001"


def sample_rows():
    with open(FIRST_FILE, encoding="utf-8") as f:
        return list(csv.reader(f))


def personal_data() -> set[str]:
    """What must never appear in a URL: students' ids, names, phones and e-mails of the sample roster."""
    with open(SAMPLE / "csv" / "roster" / "students.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {r[k] for r in rows for k in ("学号", "姓名", "学生手机", "学生邮箱", "家长手机") if r[k]}


def test_upload_record_a_talk_and_read_the_dashboard(college, browser):
    # --- academic affairs uploads a grades file and follows its cascade ------------------------------------------
    browser.sign_in(college.account(ACADEMIC_AFFAIRS))
    assert browser.path == "/ui/upload"                      # academic affairs starts on the upload page
    browser.screenshot("01-upload")
    browser.fill({"file": str(FIRST_FILE)})
    browser.submit()
    assert browser.path.startswith("/ui/uploads/")
    rows = len(sample_rows()) - 1
    assert f"已接受：{rows} 行，新增 {rows}，更正 0，未变 0" in browser.text("#accepted")
    # The page reloads itself until every service has handled every event of this upload.
    browser.wait_for_text("处理完毕", "#state", timeout=120)
    assert browser.driver.find_element("id", "cascade").get_attribute("value") == "100"
    handled = re.search(r"已处理 (\d+)/(\d+)", browser.text("#handled"))
    assert handled and handled.group(1) == handled.group(2) and int(handled.group(1)) > 3
    tree = browser.text("#tree")
    assert "grades.records_stored" in tree and "settled" in tree
    assert "warnings.changed" not in tree                        # the warnings wait for review: nobody told yet
    upload_id = browser.text("#upload-id")
    cli_trace = college.cluster.aq("trace", upload_id, "--json").stdout
    assert json.loads(cli_trace)["settled"] is True            # the page and `aq trace` agree

    # --- academic affairs review the computed warnings: leave one student out, confirm the rest ---------------------
    with college.cluster.rpc() as rpc:
        [batch] = rpc.call("warnings", "list_pending")
    waiting = sorted({c["student_id"] for c in batch["changes"]})
    assert f"本次计算有 {len(waiting)} 名学生的预警变化待审核" in browser.text("#for-review")
    browser.click_link("去审核")
    assert browser.path == "/ui/pending"
    assert f"共 {len(waiting)} 名学生的预警变化待审核" in browser.text("#pending-summary")
    left_out = waiting[0]
    row = browser.driver.find_element("xpath", f"//table[@class='changes']//tr[td[text()='{left_out}']]")
    row.find_element("css selector", "details.exclude summary").click()
    row.find_element("css selector", "textarea[name=reason]").send_keys("已办理缓考，学院另行约谈")
    browser.screenshot("02-pending")
    browser.press(row.find_element("css selector", "button.danger"))
    assert "已排除该学生" in browser.text("#saved")
    browser.driver.find_element("css selector", "details.decided summary").click()
    assert left_out not in browser.text("table.changes") and "已办理缓考" in browser.text("details.decided")
    browser.submit(f"#confirm-{batch['batch_id']}")
    # Confirmed: the announcement's notices and tasks follow on the upload's page, which reloads until settled.
    assert browser.path == f"/ui/uploads/{upload_id}"
    released = sum(1 for c in batch["changes"] if c["student_id"] != left_out)
    assert f"已确认并发布 {released} 条预警变化" in browser.text("#confirmed")
    browser.wait_for_text("处理完毕", "#state", timeout=120)
    assert "warnings.changed" in browser.text("#tree")
    browser.screenshot("03-upload-settled")
    with college.cluster.rpc() as rpc:
        levels = {w["student_id"]: w["level"] for w in rpc.call("warnings", "list_warnings", SEMESTER, "active")}
    assert set(levels) == set(waiting) - {left_out}              # announced: all but the student left out

    # --- a head teacher records the talk a warning asked for ----------------------------------------------------
    with college.cluster.rpc() as rpc:
        talks = rpc.call("advising", "list_tasks", None, "open", None, "talk")
    assert talks, "the first file's warnings should ask head teachers for talks"
    talk = talks[0]
    browser.sign_out()
    browser.sign_in(college.account(talk["assignee"]))
    assert browser.path == "/ui/tasks"
    assert "一对一面谈" in browser.text("table.tasks")
    browser.screenshot("04-head-teacher-tasks")
    browser.open(f"/ui/tasks/{talk['task_id']}")
    # Sent without the talk's content: the form says what is missing and keeps what was typed.
    browser.fill({"date": "2021-10-08", "place": "辅导员办公室"})
    browser.submit()
    assert "请修改标出的字段" in browser.text(".alert.error")
    assert "必填" in browser.text("#e-discussion")
    browser.fill({"discussion": "分析了本学期不及格课程的原因，学生表示课后复习不足。",
                  "support_plan": "每周二答疑；学习委员结对帮扶；期中后复查。", "follow_up": "2021-11-20"})
    browser.screenshot("05-talk-form")
    browser.submit()
    assert browser.path == "/ui/tasks"
    assert "已保存，任务已完成" in browser.text("#saved") and "2021-11-20" in browser.text("#saved")
    with college.cluster.rpc() as rpc:
        stored = rpc.call("advising", "get_task", talk["task_id"])
    assert stored["status"] == "done" and stored["closed_by"] == talk["assignee"]
    assert stored["record"]["place"] == "辅导员办公室" and stored["record"]["follow_up"] == "2021-11-20"

    # --- the cohort's counselor and the major's department head see it from their side ---------------------------
    with college.cluster.rpc() as rpc:
        officers = rpc.call("roster", "officers")
        student = rpc.call("roster", "responsibles", [talk["student_id"]])[talk["student_id"]]
    # The semester's counselor lists (what their timer does once the semester is quiet), then the counselor's page.
    college.cluster.aq("advising", "lists", "--issue")
    college.cluster.aq("wait", upload_id, "--timeout", "120")
    counselor = officers["counselor_by_cohort"][str(student["cohort"])]
    browser.sign_out()
    browser.sign_in(college.account(counselor))
    assert browser.path == "/ui/cohort"
    cohort_page = browser.text("main")
    assert student["name"] in cohort_page and student["class_name"] in cohort_page
    row = browser.driver.find_element(
        "xpath", f"//section[not(@id='lists')]//tr[td[text()='{talk['student_id']}']]").text
    assert "家长联系" in row and "一对一面谈" not in row          # the talk is done; the parent contact is not
    lists = browser.text("#lists")
    assert f"{student['cohort']} 级 · {SEMESTER} · 第 1 版" in lists and student["name"] in lists
    browser.screenshot("06-counselor-cohort")
    browser.submit("form.confirm-list button.primary")
    assert "名单已确认" in browser.text("#saved")
    with college.cluster.rpc() as rpc:
        confirmed = rpc.call("advising", "list_lists", SEMESTER, str(student["cohort"]), "confirmed", None)
    assert [x["confirmed_by"] for x in confirmed] == [counselor]
    # The student's whole story, opened from the row (the id is posted, not put in the URL).
    browser.press(browser.driver.find_element(
        "xpath", f"//tr[td[text()='{talk['student_id']}']]//form[@action='/ui/history']//button"))
    assert browser.path == "/ui/history" and student["name"] in browser.text("#student")
    story = browser.text("main")
    assert f"无预警→{LEVEL_TITLE_ZH[levels[talk['student_id']]]} 新发布 · 已发布" in story
    assert f"一对一面谈 已由 {talk['assignee']} 记录（2021-10-08）" in story and "课后复习不足" in story
    assert "→ 家长:" in story and "邮件 已发送" in story
    browser.screenshot("07-student-history")
    browser.sign_out()
    browser.sign_in(college.account(officers["department_head_by_major"][student["major"]]))
    assert browser.path == "/ui/courses"
    with college.cluster.rpc() as rpc:
        ours = [f for f in rpc.call("assessment", "list_flags", SEMESTER) if student["major"] in f["majors"]]
    assert ours and len(browser.all_text("section.card:last-of-type tbody tr")) == len(ours)
    browser.screenshot("08-department-head-courses")

    # --- the vice dean reads the dashboard and opens the semester report ------------------------------------------
    browser.sign_out()
    browser.sign_in(college.account(VICE_DEAN))
    assert browser.path == "/ui/dashboard"
    assert f"教学质量看板 · {SEMESTER}" in browser.text("h1")
    with college.cluster.rpc() as rpc:
        warned = len(rpc.call("warnings", "list_warnings", SEMESTER, "active"))
        flagged = rpc.call("assessment", "list_flags", SEMESTER)
    tiles = dict(zip(browser.all_text(".tile .label"), browser.all_text(".tile .value")))
    assert tiles["在读学生"] == "120" and tiles["班级"] == "12" and tiles["预警学生"] == str(warned)
    assert tiles["正常考试人次"] == str(len(sample_rows()) - 1)
    assert tiles["超标课程"] == str(len(flagged))
    chart = browser.driver.find_element("css selector", "#chart-levels svg")
    assert "学业预警人数" in chart.get_attribute("innerHTML")
    browser.screenshot("09-dashboard")
    browser.click_link("网页版")
    browser.wait_for_text("学业预警", "body")
    assert browser.path == f"/ui/report/{SEMESTER}"

    # Nothing personal travelled in a URL on the way.
    secrets = personal_data()
    leaked = [url for url in browser.visited if any(s in url for s in secrets)]
    assert leaked == []


def test_a_bad_file_is_reported_row_by_row(college, browser, tmp_path):
    header, first, second = sample_rows()[:3]
    bad = [header,
           first[:8] + ["七十"] + first[9:],                  # row 2: not a score
           ["999999999"] + second[1:],                         # row 3: nobody in the roster
           second[:2] + ["2021-2022-9"] + second[3:5] + ["abc"] + second[6:]]   # row 4: two problems
    path = tmp_path / "期末成绩-有误.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(bad)

    browser.sign_in(college.account(ACADEMIC_AFFAIRS))
    browser.fill({"file": str(path)})
    browser.submit()
    assert "未被接受：共 4 个问题，没有保存任何数据" in browser.text("#rejected")
    table = [row.split("\t") if "\t" in row else row for row in browser.all_text("table.problems tbody tr")]
    rows = [browser.driver.find_elements("css selector", f"table.problems tbody tr:nth-child({i}) td")
            for i in range(1, 5)]
    cells = [[c.text for c in row] for row in rows]
    assert [c[1] for c in cells] == ["2", "3", "4", "4"] and len(table) == 4
    assert cells[0][3] == "七十" and "成绩" in cells[0][2]
    assert "学号" in cells[1][2] and "名册中没有这个学号" in cells[1][4]
    assert {"学年学期", "学分"} <= {c[2].split(" ")[0] for c in cells[2:]}
    browser.screenshot("10-bad-file")

    # The same, in English: the reader switches language and uploads again.
    browser.click_link("English")
    browser.fill({"file": str(path)})
    browser.submit()
    assert "was rejected: 4 problems; nothing was stored" in browser.text("#rejected")
    assert "Row-by-row report" in browser.text("main")
    browser.screenshot("11-bad-file-en")
