"""Closed value sets of the data contract, with the Chinese aliases the importer accepts, and the base
of every closed set that carries a Chinese label."""
from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Self


class LabelledEnum(str, Enum):
    """A closed set whose members carry their Chinese label, declared together: MEMBER = ("value", "标签").

    The value is what is stored and typed on the command line; the label is what a page, a document
    or the audit log shows."""

    _value_: str
    label: str

    def __new__(cls, value: str, label: str = "") -> Self:  # label optional: Level("city") looks a member up
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    if TYPE_CHECKING:  # mypy types .value as Any when __new__ builds the members: it is the stored str
        @property
        def value(self) -> str: ...


class Level(LabelledEnum):
    """Administrative level of a region."""

    PROVINCE = ("province", "省")
    CITY = ("city", "市")
    COUNTY = ("county", "县（市、区）")

    @property
    def depth(self) -> int:
        """0 for the province, 1 for a city, 2 for a county."""
        return list(Level).index(self)

    def child(self) -> Level | None:
        """The level one step down, or None for a county."""
        return {Level.PROVINCE: Level.CITY, Level.CITY: Level.COUNTY, Level.COUNTY: None}[self]


class Channel(LabelledEnum):
    """信、访、电、网、码: how a report arrived."""

    LETTER = ("letter", "来信")
    VISIT = ("visit", "来访")
    PHONE = ("phone", "来电")
    ONLINE = ("online", "网络")
    QR = ("qr", "码上举报")


class Category(LabelledEnum):
    """Only accusation cases are handled and counted in handling metrics."""

    ACCUSATION = ("accusation", "检举控告")
    OUT_OF_SCOPE = ("out_of_scope", "业务范围外")
    NO_SUBSTANCE = ("no_substance", "无实质内容")


class Satisfaction(LabelledEnum):
    """The reporter's rating of a closed case."""

    SATISFIED = ("satisfied", "满意")
    BASIC = ("basic", "基本满意")
    DISSATISFIED = ("dissatisfied", "不满意")


class ReceivedLevel(LabelledEnum):
    """受理层级: the level of the body that received a report."""

    CENTRAL = ("central", "中央纪委国家监委")
    PROVINCE = ("province", "省纪委监委")
    CITY = ("city", "市纪委监委")
    COUNTY = ("county", "县纪委监委")


class ComplaintKind(LabelledEnum):
    """What a 12388 hotline caller complains about (docs/contract/hotline-complaints.md)."""

    SLOW = ("slow", "办理缓慢")
    RESULT = ("result", "对处理结果不满意")
    NO_FEEDBACK = ("no_feedback", "实名举报长期不反馈")
    OTHER = ("other", "其他")


class Feedback(LabelledEnum):
    """A city's answer to a notified complaint: did the caller have a point."""

    TRUE = ("true", "属实")
    UNTRUE = ("untrue", "不属实")


class SpotCheckResult(LabelledEnum):
    """The province's 抽查 of a city's 不属实 answer."""

    CONFIRMED = ("confirmed", "反馈属实")
    FALSE = ("false", "反馈不实")


# Extra spellings accepted on import besides the English value and the label above (offices' own exports).
_EXTRA_ALIASES = {
    Channel.LETTER: ("信", "信件", "来信举报", "书信"),
    Channel.VISIT: ("访", "走访", "来访举报"),
    Channel.PHONE: ("电", "电话", "电话举报", "来电举报", "12388电话"),
    Channel.ONLINE: ("网", "网上", "网络举报", "网上举报", "网上信访", "网站", "12388网站"),
    Channel.QR: ("码", "二维码", "扫码举报", "码上监督"),
    Satisfaction.SATISFIED: ("是",),  # a 是否满意 column: 是 / 否
    Satisfaction.DISSATISFIED: ("否",),
    ReceivedLevel.CENTRAL: ("中央", "中央纪委", "中纪委", "国家监委"),
    ReceivedLevel.PROVINCE: ("省", "省级", "省纪委", "省监委"),
    ReceivedLevel.CITY: ("市", "市级", "市纪委", "市监委"),
    ReceivedLevel.COUNTY: ("县", "县级", "区", "县纪委", "区纪委", "县（市、区）纪委监委", "区纪委监委"),
    Category.ACCUSATION: ("检举控告件",),
    Category.OUT_OF_SCOPE: ("业务外", "业务范围外件"),
    Category.NO_SUBSTANCE: ("无实质内容件",),
    ComplaintKind.SLOW: ("检举控告办理缓慢", "办理慢", "超期未办结"),
    ComplaintKind.RESULT: ("对核查处理结果不满意", "对处理结果不满", "结果不满意", "结而不服"),
    ComplaintKind.NO_FEEDBACK: ("实名举报长期不予反馈", "实名举报长期未反馈", "长期不反馈", "长期未反馈"),
    ComplaintKind.OTHER: ("其它",),
}

DOMAINS = ("教育医疗", "养老社保", "生态环保", "安全生产", "食品药品", "乡村振兴", "营商环境", "招投标", "金融", "其他")
DEFAULT_DOMAIN = "其他"


def alias_map(enum_cls: type[LabelledEnum]) -> dict[str, str]:
    """Map every accepted spelling (lower-cased, stripped) to the stored English value."""
    out: dict[str, str] = {}
    for member in enum_cls:
        spellings = (member.value, member.label, *_EXTRA_ALIASES.get(member, ()))
        for s in spellings:
            out[s.strip().lower()] = member.value
    return out


# Cells offices write in an optional column to mean "nothing here yet": read as empty, not as an error.
BLANK_SPELLINGS = frozenset({"无", "-", "—", "/", "／", "未评价", "未表态", "未办结", "在办", "办理中", "未反馈", "未告知", "未知"})

TRUE_SPELLINGS = frozenset({"1", "true", "yes", "y", "是", "t"})
FALSE_SPELLINGS = frozenset({"0", "false", "no", "n", "否", "f"})
