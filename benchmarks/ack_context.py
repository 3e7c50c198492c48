"""How long writing one acknowledgement request's context as JSON takes: the standard library's encoder against
orjson, which services/notification/acknowledgements.py uses (``_context_json``).

    .venv/bin/python -m benchmarks.ack_context            # prints microseconds per context for both
"""
from __future__ import annotations

import argparse
import json
import time

from services.notification.acknowledgements import _context_json

# A typical context: an orange warning with one rule and four failed courses (what a student's or guardian's
# warning notice carries into its acknowledgement page).
CONTEXT = {"level": "orange", "semester": "2024-2025-1", "student_name": "王小明", "escalated": False,
           "class_name": "机械2101", "head_teacher": "李老师",
           "reasons": [{"rule": "semester_failed_credits", "level": "orange", "measure": 12.0, "threshold": 10.0,
                        "comparison": ">=", "courses": [{"course_code": f"MATH0{i}", "course_name": "高等数学A(上)",
                                                         "credits": 4.0, "result": "45"} for i in range(4)]}]}


def per_call_us(encode, repeat: int) -> float:
    started = time.process_time()
    for _ in range(repeat):
        encode(CONTEXT)
    return (time.process_time() - started) / repeat * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20000)
    args = parser.parse_args()
    assert json.loads(_context_json(CONTEXT)) == CONTEXT
    stdlib = per_call_us(lambda c: json.dumps(c, ensure_ascii=False), args.repeat)
    ours = per_call_us(_context_json, args.repeat)
    print(json.dumps({"stdlib_json_us": round(stdlib, 1), "orjson_us": round(ours, 1), "repeat": args.repeat}))


if __name__ == "__main__":
    main()
