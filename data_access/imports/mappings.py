"""Column mappings: which of a file's headers feeds which field of the contract, chosen on the 数据 page's
preview where the importer's own reading is wrong or incomplete, and saved under a name per source
system (one county's 信访系统 export, another's hand-kept 台账) for the next import and the CLI."""
from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from data_access.identity import audit
from data_access.identity.auth import Identity, OutOfScope, Role
from data_access.imports.validate import HELPER_COLUMNS
from data_access.reference.problems import DataRejected, Problem
from data_access.store.schema import CASE_COLUMNS, import_mappings

FIELDS = (*CASE_COLUMNS, *HELPER_COLUMNS)  # what a file column may feed
NOT_IMPORTED = ""  # a file column mapped to nothing is dropped (and named as dropped)


def check_mapping(mapping: dict[str, str]) -> dict[str, str]:
    """The mapping, or DataRejected naming a field that does not exist or is fed by two columns."""
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for column, field in mapping.items():
        if field != NOT_IMPORTED and field not in FIELDS:
            problems.append(Problem(None, column, field, "不是可导入的字段", "not a field the importer knows"))
        elif field != NOT_IMPORTED and field in seen:
            problems.append(Problem(None, column, field, f"与“{seen[field]}”对应同一字段", f"maps to the same field as '{seen[field]}'"))
        seen.setdefault(field, column)
    if problems:
        raise DataRejected(problems)
    return dict(mapping)


def save_mapping(engine: sa.Engine, actor: Identity | str, name: str, mapping: dict[str, str]) -> None:
    """Save (or replace) the mapping `name`, with its audit row, in one transaction."""
    name = name.strip()
    if not name or len(name) > 64:
        raise DataRejected([Problem(None, None, name, "映射名称须为 1–64 个字", "a mapping name has 1 to 64 characters")])
    text = json.dumps(check_mapping(mapping), ensure_ascii=False)
    username = actor.username if isinstance(actor, Identity) else actor
    with engine.begin() as conn:
        owner = conn.execute(sa.select(import_mappings.c.saved_by).where(import_mappings.c.name == name)).scalar_one_or_none()
        if owner is not None and owner != username and isinstance(actor, Identity) and actor.role is not Role.PROVINCE:
            raise OutOfScope(f"导入映射“{name}”由 {owner} 保存，只有本人或省级用户可以修改；请另起名称保存。")
        conn.execute(import_mappings.delete().where(import_mappings.c.name == name))
        conn.execute(import_mappings.insert().values(name=name, columns=text, saved_at=dt.datetime.now().replace(microsecond=0),
                                                     saved_by=username))
        audit.record_in(conn, actor, audit.AuditAction.IMPORT, f"保存导入映射“{name}”：{len(mapping)} 列")


def load_mapping(engine: sa.Engine, name: str) -> dict[str, str]:
    """A saved mapping, or DataRejected naming the saved ones."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table(import_mappings.name):
            text = None
        else:
            text = conn.execute(sa.select(import_mappings.c.columns).where(import_mappings.c.name == name)).scalar_one_or_none()
    if text is None:
        known = "、".join(mapping_names(engine)) or "无"
        raise DataRejected([Problem(None, None, name, f"没有名为“{name}”的导入映射（已保存：{known}）",
                                    f"no saved import mapping named '{name}'")])
    return dict(json.loads(text))


def mapping_names(engine: sa.Engine) -> list[str]:
    """The saved mappings' names."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table(import_mappings.name):
            return []
        return [r[0] for r in conn.execute(sa.select(import_mappings.c.name).order_by(import_mappings.c.name))]
