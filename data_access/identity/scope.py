"""The region a reader may see: a required value on every read and write, never a default.

`WHOLE_PROVINCE` is the explicit "everything in the database"; any other scope is a city or county
code. Functions that read or write case data take a `Scope` and refuse anything else (a plain
string, None), so a new page or command that forgets the scope fails instead of showing the
province.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from data_access.reference.enums import Level
from data_access.store.schema import regions

_CODE = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class Scope:
    """A viewer's region: `code` is a 6-digit region code, or None for the whole province."""

    code: str | None

    def __post_init__(self) -> None:
        if self.code is not None and not (isinstance(self.code, str) and _CODE.match(self.code)):
            raise ValueError(f"a scope is a 6-digit region code or WHOLE_PROVINCE, not {self.code!r}")

    @property
    def is_whole_province(self) -> bool:
        """True for the unrestricted scope."""
        return self.code is None


WHOLE_PROVINCE = Scope(None)


def require_scope(scope: object) -> Scope:
    """`scope` itself when it is a Scope; TypeError otherwise (a forgotten or bare-string scope)."""
    if not isinstance(scope, Scope):
        raise TypeError(f"scope must be a data_access.identity.scope.Scope (WHOLE_PROVINCE for everything), got {scope!r}")
    return scope


def counties_at_or_under(code: str) -> sa.Select[str]:
    """The codes of the county-level units that are region `code` or lie under it (a sub-select
    for IN; the tree has three levels, and a county may hang directly under the province)."""
    parent = regions.alias("scope_parent")
    return (sa.select(regions.c.code)
            .select_from(regions.outerjoin(parent, parent.c.code == regions.c.parent_code))
            .where(regions.c.level == Level.COUNTY.value,
                   sa.or_(regions.c.code == code, regions.c.parent_code == code, parent.c.parent_code == code)))


def case_in_scope(county_code: sa.ColumnElement[str], scope: Scope) -> sa.ColumnElement[bool]:
    """A condition on a case's county: true for every case the viewer of `scope` may see."""
    code = require_scope(scope).code
    if code is None:
        return sa.true()
    return county_code.in_(counties_at_or_under(code))
