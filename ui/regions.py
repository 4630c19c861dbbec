"""The region tree for navigation: names, ancestors (breadcrumb) and children."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import pandas as pd
import streamlit as st

from data_access.identity.scope import Scope
from data_access.reference.enums import Level
from data_access.store.database import regions_frame

from . import runtime


@st.cache_data(show_spinner=False, ttl=3600)
def _tree(url: str, version: str) -> pd.DataFrame:
    return regions_frame(runtime.get_engine(url)).set_index("code", drop=False)


@dataclass(frozen=True)
class RegionTree:
    """Lookups over the regions table."""

    frame: pd.DataFrame

    @property
    def province(self) -> str:
        """Code of the province (the single row at level province)."""
        return str(self.frame.index[self.frame["level"] == Level.PROVINCE.value][0])

    def exists(self, code: str | None) -> bool:
        """True when `code` is a known region."""
        return code is not None and code in self.frame.index

    # Lookups by code, read once per tree: pages map thousands of listed cases to their county's and city's names,
    # and a DataFrame's .at costs some 35 µs a call.
    @cached_property
    def _names(self) -> dict[str, str]:
        return {str(code): str(name) for code, name in zip(self.frame.index, self.frame["name"], strict=True)}

    @cached_property
    def _parents(self) -> dict[str, str | None]:
        return {str(code): None if parent is None or parent != parent else str(parent)
                for code, parent in zip(self.frame.index, self.frame["parent_code"], strict=True)}

    def name(self, code: str) -> str:
        """Chinese name of a region (KeyError for an unknown code)."""
        return self._names[code]

    def level(self, code: str) -> Level:
        """Administrative level of a region."""
        return Level(self.frame.at[code, "level"])

    def parent(self, code: str) -> str | None:
        """Parent code, or None for the province (KeyError for an unknown code)."""
        return self._parents[code]

    def city_name(self, code: str) -> str:
        """The name of a county's city (a county directly under the province names itself)."""
        return self.name(self.parent(code) or code)

    def ancestors(self, code: str) -> list[str]:
        """Codes from the province down to `code` inclusive."""
        chain = [code]
        while (p := self.parent(chain[-1])) is not None:
            chain.append(p)
        return chain[::-1]

    def counties_under(self, code: str) -> list[str]:
        """The county-level units at or under `code`, by code."""
        counties = self.frame[self.frame["level"] == Level.COUNTY.value]
        return sorted(c for c in counties.index if code in self.ancestors(str(c)))

    def within(self, code: str, scope: Scope) -> bool:
        """True when `code` is the scope's region or lies under it (everything for WHOLE_PROVINCE)."""
        return scope.is_whole_province or scope.code in self.ancestors(code)


def tree() -> RegionTree:
    """The region tree of the connected database."""
    return RegionTree(_tree(runtime.database_url(), runtime.data_version()))
