"""Problems found in input data, each naming the row, column and value, in Chinese and English.

Every problem is counted; a refusal lists, for each kind of problem (the file's structure, its values,
the uploader's scope, the database), the first MAX_REPORTED_PROBLEMS of that kind by spreadsheet row.
"""
from __future__ import annotations

import dataclasses
import heapq
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from data_access.reference.enums import LabelledEnum

MAX_REPORTED_PROBLEMS = 200
_FETCH_ROWS = 50_000  # the rows of a database check read at a time: memory stays flat on a million conflicts


class ProblemKind(LabelledEnum):
    """What a problem is about, in the order a report lists them: an office fixes the file's shape first."""

    FILE = ("file", "文件与表头")
    VALUE = ("value", "数据内容")
    SCOPE = ("scope", "管辖范围")
    DATABASE = ("database", "与数据库中已有数据冲突")
    ENGINE = ("engine", "数据库报错")  # the database refused or failed at what the checks let through


@dataclass(frozen=True)
class Problem:
    """One problem: spreadsheet row (header = row 1, None for the whole file), column, value, reason, kind."""

    row: int | None
    column: str | None
    value: str | None
    reason_zh: str
    reason_en: str
    kind: ProblemKind = ProblemKind.VALUE

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
    """Input refused as a whole: nothing was written. Carries every problem found (up to a cap per kind)
    and the true count of each kind.

    `total` counts problems of a single kind (the callers that find one kind count more than they list);
    `totals` gives each kind's count where several kinds were found."""

    def __init__(self, problems: list[Problem], total: int | None = None,
                 totals: dict[ProblemKind, int] | None = None):
        listed = Counter(p.kind for p in problems)
        if totals is None:
            totals = dict(listed)
            if total is not None and len(listed) <= 1:
                totals = {next(iter(listed), ProblemKind.VALUE): total}
        self.totals = {kind: max(totals.get(kind, 0), min(listed[kind], MAX_REPORTED_PROBLEMS))
                       for kind in ProblemKind if totals.get(kind, 0) or listed[kind]}
        kept: list[Problem] = []
        for kind in ProblemKind:  # stable: each kind keeps the order it was given in
            kept += [p for p in problems if p.kind is kind][:MAX_REPORTED_PROBLEMS]
        self.problems = kept
        self.total = sum(self.totals.values())
        super().__init__(self.summary())

    def groups(self) -> list[tuple[ProblemKind, int, list[Problem]]]:
        """(kind, how many were found, the listed ones) for every kind found, in ProblemKind's order."""
        return [(kind, count, [p for p in self.problems if p.kind is kind]) for kind, count in self.totals.items()]

    def summary(self) -> str:
        """Bilingual header line plus one line per reported problem (under a heading per kind when several)."""
        head = f"导入被拒绝，数据库未作任何更改：共发现 {self.total} 个问题 / import refused, nothing written: {self.total} problem(s)"
        lines = [head]
        several = len(self.totals) > 1
        for kind, count, listed in self.groups():
            if several:
                lines.append(f"【{kind.label}】{count} 个 / {kind.value}: {count}")
            lines += [p.message() for p in listed]
            if count > len(listed):
                lines.append(f"……另有 {count - len(listed)} 个问题未列出 / … {count - len(listed)} more not listed")
        return "\n".join(lines)


def combined(*parts: DataRejected | None) -> DataRejected | None:
    """One refusal listing every problem of `parts` (None when none holds any), each kind counted in full."""
    found = [part for part in parts if part is not None]
    if not found:
        return None
    totals: Counter[ProblemKind] = Counter()
    for part in found:
        totals.update(part.totals)
    return DataRejected([p for part in found for p in part.problems], totals=dict(totals))



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
        self._listed += [(row, self._checks, dataclasses.replace(problem(row, hit), kind=ProblemKind.DATABASE))
                         for row, hit in first]
        self._checks += 1

    def raise_if_any(self) -> None:
        """DataRejected with the total and the first problems by row (then by check), if any check found one."""
        if self.total:
            raise DataRejected([p for _, _, p in sorted(self._listed, key=itemgetter(0, 1))], self.total)
