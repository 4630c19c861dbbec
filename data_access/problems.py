"""Problems found in input data, each naming the row, column and value, in Chinese and English.

Every problem is counted; a refusal lists the first MAX_REPORTED_PROBLEMS of them by spreadsheet row.
"""
from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

MAX_REPORTED_PROBLEMS = 200
_FETCH_ROWS = 50_000  # the rows of a database check read at a time: memory stays flat on a million conflicts


@dataclass(frozen=True)
class Problem:
    """One problem: spreadsheet row (header = row 1, None for the whole file), column, value, reason."""

    row: int | None
    column: str | None
    value: str | None
    reason_zh: str
    reason_en: str

    def message(self) -> str:
        """A one-line bilingual message, e.g. 第 19 行 closed_date "2024-02-30"：不是有效日期 / row 19, ..."""
        return f"{self._where_zh()}：{self.reason_zh} / {self._where_en()}: {self.reason_en}"

    def _where_zh(self) -> str:
        parts = []
        if self.row is not None:
            parts.append(f"第 {self.row} 行")
        if self.column:
            parts.append(self.column)
        if self.value is not None:
            parts.append(f"\"{self.value}\"")
        return "，".join(parts) if parts else "文件"

    def _where_en(self) -> str:
        head = f"row {self.row}" if self.row is not None else "file"
        if self.column:
            head += f", {self.column}"
        if self.value is not None:
            head += f" \"{self.value}\""
        return head


class DataRejected(Exception):
    """Input refused as a whole: nothing was written. Carries every problem found (up to a cap)."""

    def __init__(self, problems: list[Problem], total: int | None = None):
        self.problems = problems[:MAX_REPORTED_PROBLEMS]
        self.total = total if total is not None else len(problems)
        super().__init__(self.summary())

    def summary(self) -> str:
        """Bilingual header line plus one line per reported problem."""
        head = f"导入被拒绝，数据库未作任何更改：共发现 {self.total} 个问题 / import refused, nothing written: {self.total} problem(s)"
        lines = [head, *(p.message() for p in self.problems)]
        if self.total > len(self.problems):
            lines.append(f"……另有 {self.total - len(self.problems)} 个问题未列出 / … {self.total - len(self.problems)} more not listed")
        return "\n".join(lines)


class DatabaseProblems:
    """Problems a load finds in the database over a file's rows (an id already stored, a case another
    region holds): every one counted, the first MAX_REPORTED_PROBLEMS by spreadsheet row listed.

    A check is a query whose first column is the key of a file row (case_id, complaint_id). Staged rows
    carry no row number, so the query returns every hit, unlimited and in any order, and the file's order
    is applied here: a LIMIT in the query would cap the count and list arbitrary rows."""

    def __init__(self, keys: Sequence[object], rows: np.ndarray):
        self._index = pd.Index(keys)
        self._rows = np.asarray(rows)
        self._listed: list[tuple[int, int, Problem]] = []  # (row, check, problem): ties keep the checks' order
        self._checks = 0
        self.total = 0

    def check(self, conn: sa.Connection, query: sa.Select[Any], problem: Callable[[int, sa.Row[Any]], Problem]) -> None:
        """Count every row `query` returns; `problem(spreadsheet_row, hit)` describes the first ones by row."""
        first: list[tuple[int, sa.Row[Any]]] = []
        for hits in conn.execute(query.execution_options(yield_per=_FETCH_ROWS)).partitions():
            positions = self._index.get_indexer([hit[0] for hit in hits])
            if (positions < 0).any():
                raise ValueError("a database check returned a key that is not a row of the file")
            self.total += len(hits)
            first = heapq.nsmallest(MAX_REPORTED_PROBLEMS, [*first, *zip(self._rows[positions].tolist(), hits,
                                                                                strict=True)], key=itemgetter(0))
        self._listed += [(row, self._checks, problem(row, hit)) for row, hit in first]
        self._checks += 1

    def raise_if_any(self) -> None:
        """DataRejected with the total and the first problems by row (then by check), if any check found one."""
        if self.total:
            raise DataRejected([p for _, _, p in sorted(self._listed, key=itemgetter(0, 1))], self.total)
