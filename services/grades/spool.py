"""Validated records on their way to the database, kept in a temporary file instead of memory.

A file is validated in full before anything is stored (a bad row rejects it whole), but a 300,000-row file must
not sit in the service's memory as dicts while that happens: the good records are pickled to a temporary file in
chunks and read back chunk by chunk when they are stored.
"""
from __future__ import annotations

import pickle
import tempfile
from operator import itemgetter
from typing import Iterator

from services.grades.domain.rows import RECORD_FIELDS


_student_of = itemgetter(RECORD_FIELDS.index("student_id"))


class Spool:
    def __init__(self, chunk_rows: int = 5000):
        self.chunk_rows = chunk_rows
        self.count = 0
        self.students: set[str] = set()          # whom the records are of
        self._file = tempfile.TemporaryFile(prefix="aq-grades-")
        self._pending: list[tuple] = []

    def add(self, record: dict) -> None:
        self.extend([tuple(record[f] for f in RECORD_FIELDS)])

    def extend(self, records: list[tuple]) -> None:
        """Records as tuples in RECORD_FIELDS order (what check_grade_file hands over)."""
        self._pending.extend(records)
        self.count += len(records)
        self.students.update(map(_student_of, records))
        while len(self._pending) >= self.chunk_rows:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            pickle.dump(self._pending[:self.chunk_rows], self._file, protocol=pickle.HIGHEST_PROTOCOL)
            del self._pending[:self.chunk_rows]

    def chunks(self) -> Iterator[list[tuple]]:
        """The records in the order they were added, ``chunk_rows`` at a time, as tuples in RECORD_FIELDS order."""
        while self._pending:
            self._flush()
        self._file.seek(0)
        while True:
            try:
                yield pickle.load(self._file)
            except EOFError:
                return

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "Spool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
