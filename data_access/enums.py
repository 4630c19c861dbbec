"""Closed value sets of the data contract, with the Chinese aliases the importer accepts."""
from __future__ import annotations

from enum import Enum


class Level(str, Enum):
    """Administrative level of a region."""

    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"

    @property
    def label(self) -> str:
        return {"province": "省", "city": "市", "county": "县(市、区)"}[self.value]

    @property
    def depth(self) -> int:
        """0 for the province, 1 for a city, 2 for a county."""
        return list(Level).index(self)

    def child(self) -> "Level | None":
        """The level one step down, or None for a county."""
        return {Level.PROVINCE: Level.CITY, Level.CITY: Level.COUNTY, Level.COUNTY: None}[self]


class Channel(str, Enum):
    """信、访、电、网、码: how a report arrived."""

    LETTER = "letter"
    VISIT = "visit"
    PHONE = "phone"
    ONLINE = "online"
    QR = "qr"

    @property
    def label(self) -> str:
        return CHANNEL_LABELS[self]


class Category(str, Enum):
    """Only accusation cases are handled and counted in handling metrics."""

    ACCUSATION = "accusation"
    OUT_OF_SCOPE = "out_of_scope"
    NO_SUBSTANCE = "no_substance"

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]


class Satisfaction(str, Enum):
    """The reporter's rating of a closed case."""

    SATISFIED = "satisfied"
    BASIC = "basic"
    DISSATISFIED = "dissatisfied"

    @property
    def label(self) -> str:
        return SATISFACTION_LABELS[self]


CHANNEL_LABELS = {
    Channel.LETTER: "来信",
    Channel.VISIT: "来访",
    Channel.PHONE: "来电",
    Channel.ONLINE: "网络",
    Channel.QR: "码上举报",
}
CATEGORY_LABELS = {
    Category.ACCUSATION: "检举控告",
    Category.OUT_OF_SCOPE: "业务范围外",
    Category.NO_SUBSTANCE: "无实质内容",
}
SATISFACTION_LABELS = {
    Satisfaction.SATISFIED: "满意",
    Satisfaction.BASIC: "基本满意",
    Satisfaction.DISSATISFIED: "不满意",
}

# Extra spellings accepted on import besides the English value and the label above.
_EXTRA_ALIASES = {
    Channel.LETTER: ("信",),
    Channel.VISIT: ("访",),
    Channel.PHONE: ("电", "电话"),
    Channel.ONLINE: ("网", "网上", "网络举报"),
    Channel.QR: ("码", "二维码"),
    Category.ACCUSATION: ("检举控告件",),
    Category.OUT_OF_SCOPE: ("业务外", "业务范围外件"),
    Category.NO_SUBSTANCE: ("无实质内容件",),
}

DOMAINS = ("教育医疗", "养老社保", "生态环保", "安全生产", "食品药品", "乡村振兴", "营商环境", "招投标", "金融", "其他")
DEFAULT_DOMAIN = "其他"


def alias_map(enum_cls: type[Enum]) -> dict[str, str]:
    """Map every accepted spelling (lower-cased, stripped) to the stored English value."""
    out: dict[str, str] = {}
    for member in enum_cls:
        spellings = (member.value, member.label, *_EXTRA_ALIASES.get(member, ()))
        for s in spellings:
            out[s.strip().lower()] = member.value
    return out


TRUE_SPELLINGS = frozenset({"1", "true", "yes", "y", "是", "t"})
FALSE_SPELLINGS = frozenset({"0", "false", "no", "n", "否", "f"})
