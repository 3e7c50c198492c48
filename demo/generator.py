"""A synthetic college of any size, shaped like the sample college: roster files and grade uploads.

    python -m demo.generator --students 3000 --out /tmp/college            # about 100,000 grade rows
    python -m demo.generator --students 9000 --out /tmp/big --single-file  # one grades file of every row

Students have an ability that persists across semesters, so weak students fail repeatedly (which is what
makes warnings escalate); make-up exams repair most fails; a few sittings are absent or cheating. Everything
is deterministic for a given seed.
"""
from __future__ import annotations

import argparse
import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

MAJORS = {"机械": "机械设计制造及其自动化", "电气": "电气工程及其自动化", "机器人": "机器人工程"}
GRADE_HEADER = ["学号", "姓名", "学年学期", "课程代码", "课程名称", "学分", "课程性质", "考试性质", "成绩", "任课教师", "开课学院"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国玉兰红志宇浩然梓涵子轩欣怡思雨俊峰"
WORDS = ["优秀", "良好", "中等", "及格"]


@dataclass
class College:
    classes: list[dict] = field(default_factory=list)
    students: list[dict] = field(default_factory=list)
    staff: list[dict] = field(default_factory=list)
    uploads: list[tuple[str, list[list]]] = field(default_factory=list)   # (name, grade rows) in upload order

    @property
    def grade_rows(self) -> int:
        return sum(len(rows) for _, rows in self.uploads)


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _semesters_of(cohort: int, last_year: int) -> list[str]:
    """Autumn and spring terms from entry until the autumn of ``last_year``."""
    terms = []
    for year in range(cohort, last_year + 1):
        terms.append(f"{year}-{year + 1}-1")
        if year < last_year:
            terms.append(f"{year}-{year + 1}-2")
    return terms[:8]


def _courses(major_key: str, term_index: int, rng: random.Random) -> list[tuple]:
    """(code, name, credits, type, college) for one major's term: shared math/English, major courses, an elective."""
    n = term_index + 1
    courses = [(f"MATH{n:02d}", f"高等数学({n})", 4.0, "必修", "数学学院"),
               (f"ENG{n:02d}", f"大学英语({n})", 2.0, "必修", "外国语学院")]
    for letter, credits, kind in (("A", 3.5, "必修"), ("B", 3.0, "必修"), ("C", 1.5, "限选"), ("D", 2.5, "必修"),
                                  ("E", 2.0, "限选")):
        courses.append((f"{major_key}{n:02d}{letter}", f"{major_key}专业课程{n}{letter}", credits, kind, ""))
    courses.append((f"GE{n:02d}", f"通识选修{n}", 2.0, "公选", ""))
    return courses


def generate_college(students: int = 3000, cohorts: tuple[int, ...] = (2021, 2022, 2023, 2024),
                     last_year: int = 2024, seed: int = 7) -> College:
    rng = random.Random(seed)
    college = College()
    per_class = 30
    classes_needed = max(1, round(students / per_class))
    class_keys = [(cohort, key, i) for i in range(1, 99) for cohort in cohorts for key in MAJORS][:classes_needed]
    teacher_of: dict[tuple, str] = {}
    staff_no = 1000
    for cohort in cohorts:
        college.staff.append({"工号": f"C{cohort}", "姓名": _name(rng), "角色": "辅导员", "负责范围": str(cohort),
                              "邮箱": f"counselor{cohort}@college.example.edu.cn", "手机": f"139{rng.randrange(10**8):08d}"})
    for key, major in MAJORS.items():
        college.staff.append({"工号": f"D{key}", "姓名": _name(rng), "角色": "系主任", "负责范围": major,
                              "邮箱": f"dept-{len(college.staff)}@college.example.edu.cn", "手机": f"139{rng.randrange(10**8):08d}"})
    college.staff.append({"工号": "V0001", "姓名": _name(rng), "角色": "教学副院长", "负责范围": "学院",
                          "邮箱": "vicedean@college.example.edu.cn", "手机": f"139{rng.randrange(10**8):08d}"})
    by_semester: dict[str, dict[str, list]] = {}
    student_count = 0
    for cohort, key, number in class_keys:
        staff_no += 1
        class_name = f"{key}{cohort % 100:02d}{number:02d}"
        head = f"T{staff_no}"
        college.staff.append({"工号": head, "姓名": _name(rng), "角色": "班主任", "负责范围": class_name,
                              "邮箱": f"{head.lower()}@college.example.edu.cn", "手机": f"139{rng.randrange(10**8):08d}"})
        college.classes.append({"班级": class_name, "专业": MAJORS[key], "年级": str(cohort), "班主任工号": head})
        for seat in range(1, per_class + 1):
            if student_count >= students:
                break
            student_count += 1
            sid = f"{cohort % 100:02d}{list(MAJORS).index(key) + 1:02d}{number:02d}{seat:03d}"
            name = _name(rng)
            college.students.append({
                "学号": sid, "姓名": name, "班级": class_name, "学生邮箱": f"s{sid}@stu.example.edu.cn",
                "学生手机": f"15{rng.randrange(10**9):09d}", "家长姓名": _name(rng), "家长关系": rng.choice(("父亲", "母亲")),
                "家长手机": f"18{rng.randrange(10**9):09d}", "家长邮箱": f"p{sid}@family.example.com", "学籍状态": "在读"})
            ability = rng.gauss(80, 8) if rng.random() > 0.05 else rng.gauss(58, 8)   # a few struggle throughout
            for index, semester in enumerate(_semesters_of(cohort, last_year)):
                regular = by_semester.setdefault(semester, {}).setdefault("regular", [])
                makeup = by_semester[semester].setdefault("makeup", [])
                for code, cname, credits, ctype, offering in _courses(key, index, rng):
                    teacher = teacher_of.setdefault((code, class_name[:len(key) + 2]), _name(rng))
                    score = _score(rng, ability)
                    regular.append([sid, name, semester, code, cname, credits, ctype, "正常考试", score, teacher, offering])
                    if _fails(score) and score not in ("作弊",) and rng.random() < 0.85:
                        makeup.append([sid, name, semester, code, cname, credits, ctype, "补考",
                                       _score(rng, ability + 8), teacher, offering])
    for semester in sorted(by_semester, key=lambda s: (int(s[:4]), int(s[-1]))):
        for kind in ("regular", "makeup"):
            if by_semester[semester].get(kind):
                college.uploads.append((f"{semester}-{kind}", by_semester[semester][kind]))
    return college


def _score(rng: random.Random, ability: float):
    roll = rng.random()
    if roll < 0.004:
        return "缺考"
    if roll < 0.005:
        return "作弊"
    if roll < 0.06:
        return rng.choice(WORDS)
    return max(0, min(100, round(rng.gauss(ability, 9))))


def _fails(score) -> bool:
    return isinstance(score, int) and score < 60 or score in ("缺考", "作弊")


def write_college(college: College, out: Path, single_file: bool = False) -> dict[str, list[Path]]:
    (out / "roster").mkdir(parents=True, exist_ok=True)
    (out / "uploads").mkdir(parents=True, exist_ok=True)
    roster = []
    for name, rows in (("staff.csv", college.staff), ("classes.csv", college.classes), ("students.csv", college.students)):
        path = out / "roster" / name
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        roster.append(path)
    uploads = []
    groups = [("all-grades", [r for _, rows in college.uploads for r in rows])] if single_file else college.uploads
    for number, (name, rows) in enumerate(groups, start=1):
        path = out / "uploads" / f"{number:02d}-{name}.csv"
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(GRADE_HEADER)
            writer.writerows(rows)
        uploads.append(path)
    return {"roster": roster, "uploads": uploads}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--single-file", action="store_true", help="one grades file holding every row")
    args = parser.parse_args()
    college = generate_college(args.students, seed=args.seed)
    paths = write_college(college, args.out, args.single_file)
    print(f"{len(college.students)} students, {len(college.classes)} classes, {college.grade_rows} grade rows "
          f"in {len(paths['uploads'])} files under {args.out}")


if __name__ == "__main__":
    main()
