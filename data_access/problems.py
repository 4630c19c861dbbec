"""Problems found in input data, each naming the row, column and value, in Chinese and English."""
from __future__ import annotations

from dataclasses import dataclass

MAX_REPORTED_PROBLEMS = 200


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
