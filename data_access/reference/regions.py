"""The region reference (administrative tree): the committed default, and other provinces' files."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from data_access.reference.enums import Level
from data_access.reference.problems import DataRejected, Problem

REFERENCE_DIR = Path(__file__).resolve().parent  # the region files sit beside this module
DEFAULT_PROVINCE = "370000"
REGION_COLUMNS = ("code", "name", "level", "parent_code", "lon", "lat")


def default_regions_file() -> Path:
    """The committed regions.csv of the default province (Shandong)."""
    return REFERENCE_DIR / DEFAULT_PROVINCE / "regions.csv"


def read_regions_file(path: Path) -> pd.DataFrame:
    """Read and check a regions.csv: one province, levels consistent, every parent present."""
    frame = pd.read_csv(path, dtype={"code": str, "parent_code": str}, keep_default_na=False, encoding="utf-8-sig")
    missing = [c for c in REGION_COLUMNS if c not in frame.columns]
    if missing:
        raise DataRejected([Problem(1, c, None, "地区文件缺少必需的列", "regions file lacks a required column") for c in missing])
    frame = frame[list(REGION_COLUMNS)].copy()
    frame["parent_code"] = frame["parent_code"].astype(object).where(frame["parent_code"] != "", None)
    _check_tree(frame)
    return frame


def former_names(province_code: str) -> dict[str, str]:
    """Former names of the province's county-level units -> today's code, from the reference's
    former_names.csv ({} when it has none)."""
    path = REFERENCE_DIR / province_code / "former_names.csv"
    if not path.exists():
        return {}
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return dict(zip(frame["former_name"].str.strip(), frame["code"].str.strip(), strict=True))


def _check_tree(frame: pd.DataFrame) -> None:
    problems: list[Problem] = []
    levels = {lv.value for lv in Level}
    codes = set(frame["code"])
    for i, row in enumerate(frame.itertuples(index=False), start=2):
        if not (isinstance(row.code, str) and len(row.code) == 6 and row.code.isdigit()):
            problems.append(Problem(i, "code", str(row.code), "地区代码应为 6 位数字", "code must be 6 digits"))
        if row.level not in levels:
            problems.append(Problem(i, "level", str(row.level), "层级应为 province/city/county", "level must be province, city or county"))
        if row.level != Level.PROVINCE.value and row.parent_code not in codes:
            problems.append(Problem(i, "parent_code", str(row.parent_code), "上级代码不存在", "parent_code not found"))
    if (frame["level"] == Level.PROVINCE.value).sum() != 1:
        problems.append(Problem(None, "level", None, "地区文件必须恰有一个省级单位", "the file must hold exactly one province"))
    if frame["code"].duplicated().any():
        problems.append(Problem(None, "code", None, "地区代码重复", "duplicate region codes"))
    if problems:
        raise DataRejected(problems)


def boundaries_file(province_code: str, level: Level) -> Path | None:
    """The committed simplified boundary GeoJSON for a province's cities or counties, if any."""
    name = {Level.CITY: "cities.geojson", Level.COUNTY: "counties.geojson"}.get(level)
    path = REFERENCE_DIR / province_code / name if name else None
    return path if path and path.exists() else None
