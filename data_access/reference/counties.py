"""County-level units by code or by the names offices write: 历下区, 济南市历下区, 济南历下, or the name
with a separate 所属市 column. A name that fits several units without a city (市中区 is in 济南 and
枣庄) is refused with the candidates, never guessed.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd

from data_access.reference.enums import Level

_CODE = re.compile(r"^\d{6}$")
_SUFFIXES = ("自治县", "区", "县", "市")


def _short(name: str) -> str:
    """济南市 -> 济南, 历下区 -> 历下 (kept whole when too little would remain)."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


@dataclass(frozen=True)
class CountyNames:
    """Every accepted spelling of every county-level unit, and the units' full names."""

    codes: frozenset[str]
    spellings: dict[str, tuple[str, ...]] = field(default_factory=dict)  # spelling -> county codes
    full_name: dict[str, str] = field(default_factory=dict)  # code -> 济南市历下区
    city_of: dict[str, str] = field(default_factory=dict)  # code -> 济南市

    @classmethod
    def from_regions(cls, regions: pd.DataFrame, former: dict[str, str] | None = None) -> CountyNames:
        """From the regions table (code, name, level, parent_code), and the former names of units that
        were renamed or merged (former name -> today's code), which map to today's unit."""
        names = dict(zip(regions["code"], regions["name"], strict=True))
        counties = regions[regions["level"] == Level.COUNTY.value]
        spellings: dict[str, set[str]] = defaultdict(set)
        full_name, city_of = {}, {}
        for code, name, parent in zip(counties["code"], counties["name"], counties["parent_code"], strict=True):
            city = names.get(parent, "") if isinstance(parent, str) else ""
            city = city if city and regions.loc[regions["code"] == parent, "level"].iloc[0] == Level.CITY.value else ""
            full_name[code], city_of[code] = city + name, city
            for spelling in {name, city + name, _short(city) + name, _short(city) + _short(name)} if city else {name}:
                spellings[spelling].add(code)
        for name, code in (former or {}).items():
            if code in full_name:
                city = city_of[code]
                for spelling in {name, city + name, _short(city) + name} if city else {name}:
                    spellings[spelling].add(code)
        return cls(frozenset(counties["code"]), {k: tuple(sorted(v)) for k, v in spellings.items()}, full_name, city_of)

    def candidates(self, text: str, city: str = "") -> tuple[str, ...]:
        """The codes `text` may mean (a code, or a spelling), narrowed by `city` when given."""
        text = text.strip().replace(" ", "")
        if _CODE.match(text):
            return (text,) if text in self.codes else ()
        found = self.spellings.get(text, ())
        city = city.strip()
        if city and len(found) > 1:
            found = tuple(c for c in found if self.city_of[c] in (city, city + "市") or _short(self.city_of[c]) == city)
        return found

    def describe(self, codes: tuple[str, ...]) -> str:
        """济南市市中区 370103、枣庄市市中区 370402."""
        return "、".join(f"{self.full_name[c]} {c}" for c in codes)
