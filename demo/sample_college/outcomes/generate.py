"""Generate the sample college's outcomes (files.md "Outcomes"): synthetic, deterministic, realistic in shape.

    .venv/bin/python demo/sample_college/outcomes/generate.py     # rewrites outcomes.csv beside this file

- CET-4: every student of the 2021-2023 cohorts sits it in the December of their first year, and again each
  June and December until they pass (at most four sittings); about 70% pass eventually.
- CET-6: students who passed CET-4 sit it from the next sitting on; about 45% of them pass.
- The 2021 cohort graduates in June 2025: graduation certificate for ~95%, degree for ~90%, a destination each.
- Awards (school level and above, a few college-level ones), dated 2022-2024.
- Enrolment per major for the intakes 2021-2024.
"""
from __future__ import annotations

import csv
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROSTER = HERE.parent / "csv" / "roster"
SITTINGS = ("12-16", "06-15")


def main() -> None:
    rng = random.Random(20250630)
    classes = {r["班级"]: r for r in csv.DictReader(open(ROSTER / "classes.csv", encoding="utf-8"))}
    students = list(csv.DictReader(open(ROSTER / "students.csv", encoding="utf-8")))
    rows = []
    for s in students:
        sid, cohort = s["学号"], int(classes[s["班级"]]["年级"])
        ability = rng.gauss(0, 1)
        if cohort <= 2023:
            dates = [f"{cohort}-12-16"] + [f"{y}-{d}" for y in range(cohort + 1, 2025) for d in ("06-15", "12-16")]
            dates = dates[:4]
            passed4 = None
            for i, day in enumerate(dates):
                score = int(max(250, min(640, rng.gauss(420 + 35 * ability + 12 * i, 35))))
                rows.append((sid, "CET4", day, str(score), ""))
                if score >= 425:
                    passed4 = i
                    break
            if passed4 is not None:
                for day in dates[passed4 + 1:passed4 + 3]:
                    score = int(max(250, min(620, rng.gauss(400 + 40 * ability, 35))))
                    rows.append((sid, "CET6", day, str(score), ""))
                    if score >= 425:
                        break
        if cohort == 2021:
            if rng.random() < 0.95:
                rows.append((sid, "毕业证", "2025-06-30", "", ""))
                if ability > -1.3 and rng.random() < 0.96:
                    rows.append((sid, "学位证", "2025-06-30", "", ""))
            pick = rng.random() + 0.15 * ability
            destination = ("升学" if pick > 0.82 else "出国" if pick > 0.74 else "创业" if pick > 0.71
                           else "就业" if pick > 0.08 else "待就业")
            rows.append((sid, "去向", "2025-07-15", destination, ""))
        if rng.random() < 0.22 + 0.1 * max(0.0, ability):
            level = rng.choices(("院级", "校级", "省级", "国家级"), weights=(3, 6, 3, 1))[0]
            name = rng.choice(("全国大学生数学建模竞赛", "机械创新设计大赛", "电子设计竞赛", "机器人大赛",
                               "“挑战杯”课外学术科技作品竞赛", "优秀学生奖学金"))
            rows.append((sid, "获奖", f"{rng.choice((2022, 2023, 2024))}-{rng.choice(('04', '05', '11'))}-20",
                         name, level))
    for cohort in (2021, 2022, 2023, 2024):
        for major in sorted({c["专业"] for c in classes.values()}):
            enrolled = sum(1 for s in students if classes[s["班级"]]["专业"] == major
                           and int(classes[s["班级"]]["年级"]) == cohort)
            planned = enrolled + rng.choice((0, 0, 1, 2))
            rows.append(("", "招生", f"{cohort}-09-01", f"{major}:{planned}:{enrolled}", ""))
    with open(HERE / "outcomes.csv", "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(("学号", "类别", "日期", "值", "级别"))
        writer.writerows(rows)
    print(f"{len(rows)} rows -> {HERE / 'outcomes.csv'}")


if __name__ == "__main__":
    main()
