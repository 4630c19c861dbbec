"""Every metric of ../shared/spec/metrics.md, declared once as data.

A count metric is the set of cases of its `parent` (if any) that also satisfy its `rule` (rules.py:
the SQL, the case columns it reads, its anchor date); the compiler (compiler.py) derives everything
else from these entries. A rate is numerator / denominator; an average is the mean of a per-case
quantity over a count metric's cases. Labels and definitions here are what the 指标口径 page and
every tooltip show.

Adding a metric is one entry in _DECLARED (with a new Rule in rules.py when no existing one fits).
METRICS, METRICS_BY_ID and the id lists are read-only views of the registered metrics, so that names
imported elsewhere stay current while `extended` (tests) registers one more for a while.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import TypeVar, assert_never, overload

from . import rules
from .rules import Quantity, Rule

T = TypeVar("T")


class MetricKind(str, Enum):
    """How a metric's value is formed."""

    COUNT = "count"
    RATE = "rate"
    AVERAGE = "average"


class Direction(str, Enum):
    """Which way is better, for colouring changes and highlighting against the parent region."""

    HIGHER_BETTER = "higher_better"
    LOWER_BETTER = "lower_better"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class Metric:
    """One metric: id (also the CSV column name), Chinese label and definition, and its formula."""

    id: str
    label: str
    definition: str
    kind: MetricKind
    rule: Rule | None = None  # COUNT: the condition its cases satisfy beyond its parent's
    parent: str | None = None  # COUNT: the metric whose cases this one restricts
    numerator: str | None = None  # RATE
    denominator: str | None = None  # RATE; AVERAGE: the count metric whose cases are averaged over
    quantity: Quantity | None = None  # AVERAGE: the per-case quantity averaged
    direction: Direction = Direction.NEUTRAL
    unit: str = "件"

    def __post_init__(self) -> None:
        missing = [name for name in _formula_fields(self.kind) if getattr(self, name) is None]
        if missing:
            raise ValueError(f"metric {self.id!r}: a {self.kind.value} metric needs {', '.join(missing)}")

    # Typed per-kind access: the fields the kind requires, present by the check above.
    @property
    def count_rule(self) -> Rule:
        """COUNT: the rule its cases satisfy beyond its parent's."""
        return self._formula_field(self.rule, MetricKind.COUNT)

    @property
    def rate_terms(self) -> tuple[str, str]:
        """RATE: the count metrics (numerator, denominator) it divides."""
        return (self._formula_field(self.numerator, MetricKind.RATE),
                self._formula_field(self.denominator, MetricKind.RATE))

    @property
    def averaged(self) -> tuple[Quantity, str]:
        """AVERAGE: the per-case quantity and the count metric whose cases it is averaged over."""
        return (self._formula_field(self.quantity, MetricKind.AVERAGE),
                self._formula_field(self.denominator, MetricKind.AVERAGE))

    def _formula_field(self, value: T | None, kind: MetricKind) -> T:
        if self.kind is not kind or value is None:
            raise TypeError(f"metric {self.id!r} is a {self.kind.value} metric, not a {kind.value} one")
        return value


def _formula_fields(kind: MetricKind) -> tuple[str, ...]:
    """The fields of Metric that a metric of `kind` must set."""
    match kind:
        case MetricKind.COUNT:
            return ("rule",)
        case MetricKind.RATE:
            return ("numerator", "denominator")
        case MetricKind.AVERAGE:
            return ("quantity", "denominator")
    assert_never(kind)


def _count(id: str, label: str, definition: str, rule: Rule, parent: str | None = None,
           direction: Direction = Direction.NEUTRAL) -> Metric:
    return Metric(id, label, definition, MetricKind.COUNT, rule=rule, parent=parent, direction=direction)


def _rate(id: str, label: str, definition: str, numerator: str, denominator: str, direction: Direction) -> Metric:
    return Metric(id, label, definition, MetricKind.RATE, numerator=numerator, denominator=denominator,
                  direction=direction, unit="%")


S = "检举控告件（类别为检举控告）"
WINDOW_END = "“统计期止日与截止日期中较早者”"

_DECLARED: tuple[Metric, ...] = (
    _count("received", "收件总量", "统计期内收件的全部信访举报件（任何类别）。", rules.RECEIVED_IN_PERIOD),
    _count("accepted", "检举控告件", f"统计期内收件的{S}。", rules.ACCEPTED_IN_PERIOD),
    _count("due", "应办结件",
           f"办理期限（含批准延期；为空时按收件日期后的默认期限，见“本系统设置”）落在统计期起日至{WINDOW_END}之间的{S}。",
           rules.DUE_IN_WINDOW),
    _count("on_time", "按期办结件", "应办结件中，办结日期不晚于办理期限、且不晚于截止日期的件。", rules.CLOSED_BY_DUE, parent="due",
           direction=Direction.HIGHER_BETTER),
    _count("first_due", "初次举报应办结件", "应办结件中的初次举报件。", rules.FIRST_REPORT, parent="due"),
    _count("first_on_time", "初次举报按期办结件", "按期办结件中的初次举报件。", rules.FIRST_REPORT, parent="on_time",
           direction=Direction.HIGHER_BETTER),
    _count("overdue", "超期未办结",
           f"截止日期时已过办理期限（办理期限早于截止日期）且截至该日仍未办结的{S}；这是截止日期时的存量，不受统计期限制。",
           rules.OVERDUE_AT_AS_OF, direction=Direction.LOWER_BETTER),
    _count("first_overdue", "初次举报超期未办结", "超期未办结件中的初次举报件。", rules.FIRST_REPORT, parent="overdue",
           direction=Direction.LOWER_BETTER),
    _count("closed", "办结件", f"办结日期在统计期内且不晚于截止日期的{S}。", rules.CLOSED_IN_PERIOD),
    _count("rated", "参评件", "办结件中有群众满意度评价的件。", rules.RATED, parent="closed"),
    _count("satisfied", "满意件", "参评件中评价为“满意”或“基本满意”的件。", rules.SATISFIED, parent="rated",
           direction=Direction.HIGHER_BETTER),
    _count("disputed", "结而不服件", "办结件中举报人对办理结果不服（申请复查复核或再次举报）的件。", rules.DISPUTED, parent="closed",
           direction=Direction.LOWER_BETTER),
    _count("leapfrog", "越级举报件", "检举控告件中的越级举报件（向有管辖权机关的上级机关举报）。", rules.LEAPFROG, parent="accepted",
           direction=Direction.LOWER_BETTER),
    _count("repeat", "重复举报件", "检举控告件中的重复举报件。", rules.REPEAT, parent="accepted", direction=Direction.LOWER_BETTER),
    _count("notice_due", "应受理告知件",
           f"受理告知期限（收件日期后第 15 个工作日）落在统计期起日至{WINDOW_END}之间的实名{S}。",
           rules.NOTICE_DUE_IN_WINDOW),
    _count("notice_on_time", "受理告知及时件", "应受理告知件中，受理告知日期不晚于受理告知期限的件。", rules.NOTICE_ON_TIME,
           parent="notice_due", direction=Direction.HIGHER_BETTER),
    _count("feedback_due", "应结果反馈件",
           f"截止日期时已办结、且结果反馈期限（办结日期后第 15 个工作日）落在统计期起日至{WINDOW_END}之间的实名{S}。",
           rules.FEEDBACK_DUE_IN_WINDOW),
    _count("feedback_on_time", "结果反馈及时件", "应结果反馈件中，结果反馈日期不晚于结果反馈期限的件。", rules.FEEDBACK_ON_TIME,
           parent="feedback_due", direction=Direction.HIGHER_BETTER),
    _rate("on_time_rate", "按期办结率", "按期办结件 ÷ 应办结件。", "on_time", "due", Direction.HIGHER_BETTER),
    _rate("first_on_time_rate", "初次举报按期办结率", "初次举报按期办结件 ÷ 初次举报应办结件。", "first_on_time", "first_due",
          Direction.HIGHER_BETTER),
    _rate("satisfaction_rate", "群众满意率", "满意件（满意＋基本满意）÷ 参评件。", "satisfied", "rated", Direction.HIGHER_BETTER),
    _rate("rating_rate", "参评率", "参评件 ÷ 办结件。", "rated", "closed", Direction.HIGHER_BETTER),
    _rate("dispute_rate", "结而不服率", "结而不服件 ÷ 办结件。", "disputed", "closed", Direction.LOWER_BETTER),
    _rate("leapfrog_rate", "越级举报率", "越级举报件 ÷ 检举控告件。", "leapfrog", "accepted", Direction.LOWER_BETTER),
    _rate("repeat_rate", "重复举报率", "重复举报件 ÷ 检举控告件。", "repeat", "accepted", Direction.LOWER_BETTER),
    _rate("notice_on_time_rate", "受理告知及时率", "受理告知及时件 ÷ 应受理告知件。", "notice_on_time", "notice_due",
          Direction.HIGHER_BETTER),
    _rate("feedback_on_time_rate", "结果反馈及时率", "结果反馈及时件 ÷ 应结果反馈件。", "feedback_on_time", "feedback_due",
          Direction.HIGHER_BETTER),
    Metric("avg_handling_days", "平均办理天数", "办结件从收件日期到办结日期的自然日天数的平均值。", MetricKind.AVERAGE,
           denominator="closed", quantity=rules.HANDLING_DAYS, direction=Direction.LOWER_BETTER, unit="天"),
)

_registered: list[Metric] = list(_DECLARED)  # changed only by `extended`
_by_id: dict[str, Metric] = {m.id: m for m in _registered}


class _Live(Sequence[T]):
    """A read-only sequence recomputed from the registered metrics at each use."""

    def __init__(self, compute: Callable[[], tuple[T, ...]]) -> None:
        self._compute = compute

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...

    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        return self._compute()[index]

    def __len__(self) -> int:
        return len(self._compute())

    def __iter__(self) -> Iterator[T]:
        return iter(self._compute())

    def __repr__(self) -> str:
        return repr(self._compute())


def _ids(counts: bool) -> tuple[str, ...]:
    return tuple(m.id for m in _registered if (m.kind is MetricKind.COUNT) is counts)


METRICS: Sequence[Metric] = _Live(lambda: tuple(_registered))
METRICS_BY_ID: Mapping[str, Metric] = MappingProxyType(_by_id)
# Order of the columns of `python -m metrics table` (and of the golden files): counts, then the rest.
COUNT_IDS: Sequence[str] = _Live(lambda: _ids(counts=True))
DERIVED_IDS: Sequence[str] = _Live(lambda: _ids(counts=False))
ALL_IDS: Sequence[str] = _Live(lambda: _ids(counts=True) + _ids(counts=False))


@contextmanager
def extended(*metrics: Metric) -> Iterator[None]:
    """Register `metrics` after the declared ones for the duration of the block (tests only: not
    thread-safe; the dashboard's metrics are the entries of _DECLARED)."""
    ids = [m.id for m in metrics]
    clashes = sorted({i for i in ids if i in _by_id or ids.count(i) > 1})
    if clashes:
        raise ValueError(f"metric id(s) registered twice: {', '.join(clashes)}")
    before = tuple(_registered)
    _registered.extend(metrics)
    _by_id.update(zip(ids, metrics, strict=True))
    try:
        yield
    finally:
        _registered[:] = before
        _by_id.clear()
        _by_id.update((m.id, m) for m in before)

COMMON_NOTES = (
    "统计期为 [起日, 止日]，两端均含；截止日期（默认为止日）表示按该日日终时的数据状态计算：办结日期晚于截止日期的件视为截至该日仍未办结。",
    "除“收件总量”外，办理类指标只统计类别为“检举控告”的件；业务范围外件、无实质内容件不计入。",
    "比率的分母为 0 时不显示数值（空），不按 0 计。",
    "工作日按国务院公布的法定节假日和调休安排计算；日历未覆盖的年份按周一至周五为工作日计算，并在使用处提示。",
    "受理告知、结果反馈的 15 个工作日时限见《纪检监察机关处理检举控告工作规则》；"
    "办理期限为空时按收件后若干个自然日计（默认 60 天），为本地做法，由设置文件的 default_due_days 决定，当前值见“本系统设置”。",
)


def metric(metric_id: str) -> Metric:
    """The registered metric with this id (KeyError if there is none)."""
    return METRICS_BY_ID[metric_id]


def required_counts(metric_ids: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The count metrics needed to compute the given metrics, in registry order."""
    needed: set[str] = set()
    for mid in metric_ids:
        m = METRICS_BY_ID[mid]
        if m.kind is MetricKind.COUNT:
            needed.add(mid)
        for ref in (m.numerator, m.denominator):
            if ref:
                needed.add(ref)
    return tuple(i for i in COUNT_IDS if i in needed)
