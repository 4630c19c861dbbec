"""Every check of a case file in one pass, so that an office fixes its file once: the file's structure and
values (validate), the uploader's region (分级上报: a city or county sends only its own cases), and the
database (case ids already stored, ids another region holds). Each problem speaks the file's terms: its
header, its row, the value as written (所属县区 历下区, not county_code 370102)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from data_access.imports.loading import load_conflicts
from data_access.imports.reader import SourceTable
from data_access.imports.validate import CheckedCases, ValidatedCases, check_cases
from data_access.reference.counties import CountyNames
from data_access.reference.problems import DataRejected, Problem, ProblemKind, combined
from data_access.reference.regions import former_names
from data_access.store.database import regions_frame


def county_names(regions: pd.DataFrame) -> CountyNames:
    """The county names the importer accepts: today's, and the former ones the province's reference lists."""
    province = regions.loc[regions["level"] == "province", "code"]
    return CountyNames.from_regions(regions, former_names(str(province.iloc[0])) if len(province) else {})


def inspect_case_file(engine: sa.Engine, source: SourceTable, *, mode: str, region: str | None = None,
                      mapping: dict[str, str] | None = None, today: dt.date | None = None,
                      database: bool = True) -> CheckedCases:
    """The file's rows typed, and every problem of every kind. The database is asked with `database`, or
    when the file has other problems (a file without any is checked again by the load, in its transaction)."""
    regions = regions_frame(engine)
    checked = check_cases(source.frame, county_names(regions), source.rows, mapping, source.header_row, today)
    problems = checked.problems
    if region is not None:
        problems = combined(problems, scope_problems(checked.cases, region, regions))
    if database or problems is not None:
        keyed = _first_rows_with_an_id(checked.cases)
        if keyed.table.num_rows:
            problems = combined(problems, load_conflicts(engine, keyed, mode, region))
    return CheckedCases(checked.cases, problems)


def scope_problems(validated: ValidatedCases, region: str, regions: pd.DataFrame) -> DataRejected | None:
    """A city or county user's file holds only its own region's cases: every other row is named, with
    its county as the file wrote it and the unit it means."""
    parent = dict(zip(regions["code"], regions["parent_code"], strict=True))
    names = dict(zip(regions["code"], regions["name"], strict=True))

    def inside(code: str | None) -> bool:
        while isinstance(code, str) and code:
            if code == region:
                return True
            code = parent.get(code)
        return False

    allowed = {code for code in parent if inside(code)}  # the tree is walked once per region, not per row
    counties = validated.table["county_code"].to_pylist()
    column = validated.shown("county_code")
    own = names.get(region, region)
    problems = [Problem(int(validated.rows[i]), column, validated.given_county(i),
                        f"{_full_name(code, names, parent)}（{code}）不属于本账号的管辖范围（{own}），不能由本级上报",
                        f"county {code} is outside the uploader's region {region}", ProblemKind.SCOPE)
                for i, code in enumerate(counties) if code and code not in allowed]
    return DataRejected(problems) if problems else None


def _full_name(code: str, names: dict[str, str], parent: dict[str, str | None]) -> str:
    """济南市历下区."""
    city = parent.get(code)
    return f"{names.get(city, '') if city else ''}{names.get(code, code)}"


def _first_rows_with_an_id(validated: ValidatedCases) -> ValidatedCases:
    """The case ids of the file (each at its first row), for asking the database about them: a file that
    is still wrong elsewhere is asked about every id it holds."""
    ids = pd.Series(validated.table["case_id"].to_pylist(), dtype=object)
    keep = (ids.notna() & (ids != "") & ~ids.duplicated()).to_numpy()
    table = pa.table({"case_id": pa.array(ids[keep].tolist(), type=pa.string())})
    return ValidatedCases(table, np.asarray(validated.rows)[keep], headers=validated.headers)
