"""The city 通报 of the 12388 month on a demo province (DuckDB): besides the month's calls and handling it states
the city's answers to last month's 通报 and what the 抽查 found, the problems these show (存在问题), and which of
its counties got a point-to-point notice; each such notice is 抄送 the city in its 版记. Every figure is the one
metrics.hotline.month_counts / monthly_facts give (one fact, one function)."""
from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import docx
import pandas as pd
import pytest
import sqlalchemy as sa

from data_access.identity import audit
from data_access.identity.scope import WHOLE_PROVINCE
from data_access.reference.enums import Level
from data_access.supervision.hotline_settings import DEFAULT_HOTLINE_SETTINGS
from metrics.hotline import MonthlyFacts, month_counts, monthly_facts
from presentation.documents import DEFAULT_DOCUMENT_SETTINGS
from presentation.format import cn_date
from reports.monthly import issue_monthly_pack, pack_dates
from tests.test_document_render import demo_province

MONTH, LAST, DATED = "2026-10", "2026-09", dt.date(2026, 12, 7)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    yield from demo_province(tmp_path_factory.mktemp("city_notice"), 30_000)


@pytest.fixture(scope="module")
def issued(engine: sa.Engine) -> tuple[MonthlyFacts, dict[str, str]]:
    """The month's facts and the text of every file of its issued pack, by file name."""
    facts = monthly_facts(engine, MONTH, scope=WHOLE_PROVINCE)
    pack, _, _, _ = issue_monthly_pack(engine, audit.PROGRAM_ACTOR, facts, pack_dates(DATED, DEFAULT_DOCUMENT_SETTINGS),
                                       documents=DEFAULT_DOCUMENT_SETTINGS, hotline_settings=DEFAULT_HOTLINE_SETTINGS,
                                       write=lambda pack: None)
    return facts, {name: text_of(content) for name, content in pack.files if name.endswith(".docx")}


def text_of(content: bytes) -> str:
    """Paragraphs and table cells of a .docx, one per line."""
    document = docx.Document(io.BytesIO(content))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


@pytest.fixture(scope="module")
def answers(engine: sa.Engine) -> pd.DataFrame:
    """Last month's notice, city by city, as the metrics layer counts it on the 成文日期."""
    return month_counts(engine, LAST, Level.CITY, scope=WHOLE_PROVINCE, today=DATED).set_index("name")


def test_the_demo_month_has_answers_missing_and_found_untrue(answers: pd.DataFrame) -> None:
    assert answers["notified"].sum() == answers["complaints"].sum() > 0
    assert answers["missing"].sum() > 0 and answers["check_false"].sum() > 0 and answers["checked"].sum() > 0


def test_each_city_states_its_answers_to_last_month_and_the_spot_checks(issued: tuple[MonthlyFacts, dict[str, str]],
                                                                        answers: pd.DataFrame) -> None:
    facts, texts = issued
    for notice in facts.city_notices:
        text, a = texts[f"12388通报_{MONTH}_{notice.name}.docx"], answers.loc[notice.name]
        assert "三、上月通报反馈和抽查情况" in text and "四、存在问题" in text and "五、工作要求" in text
        if not a["notified"]:
            assert "2026年9月通报未列你市来电。" in text
            continue
        assert (f"2026年9月通报你市来电{a['notified']}件，截至{cn_date(DATED)}已反馈{a['answered']}件，"
                f"其中属实{a['confirmed']}件、不属实{a['denied']}件") in text, notice.name
        assert (f"逾期未反馈{a['missing']}件。" if a["missing"] else "无逾期未反馈。") in text
        if a["drawn"]:
            assert f"反馈不属实的抽查{a['drawn']}件，已核查{a['checked']}件，" in text
            assert (f"发现反馈不实{a['check_false']}件。" if a["check_false"] else "未发现反馈不实。") in text
        if a["items"]:
            assert f"{a['items']}件已挂账督办" in text


def test_the_problems_name_what_falls_behind(issued: tuple[MonthlyFacts, dict[str, str]], answers: pd.DataFrame) -> None:
    facts, texts = issued
    seen_missing = seen_untrue = 0
    for notice in facts.city_notices:
        text, a, h, p = texts[f"12388通报_{MONTH}_{notice.name}.docx"], answers.loc[notice.name], notice.handling, facts.province
        problems = text.split("四、存在问题\n")[1].split("\n")[0]
        behind = h["on_time_rate"] < p["on_time_rate"]
        assert ("按期办结率" in problems.split("初次举报")[0]) == behind, (notice.name, problems)
        assert (f"初次举报超期未办结{h['first_overdue']}件" in problems) == bool(h["first_overdue"])
        assert (f"逾期未反馈{a['missing']}件" in problems) == bool(a["missing"])
        assert (f"抽查发现反馈不实{a['check_false']}件" in problems) == bool(a["check_false"])
        if a["missing"]:
            assert f"2026年9月通报逾期未反馈的{a['missing']}件，请于" in text
        seen_missing += bool(a["missing"])
        seen_untrue += bool(a["check_false"])
    assert seen_missing and seen_untrue


def test_a_city_names_its_counties_notified_and_their_notices_copy_it(issued: tuple[MonthlyFacts, dict[str, str]]) -> None:
    facts, texts = issued
    assert facts.county_notices
    for notice in facts.city_notices:
        own = [c.name for c in facts.county_notices if c.city_name == notice.name]
        text = texts[f"12388通报_{MONTH}_{notice.name}.docx"]
        assert (f"你市{'、'.join(own)}列为重点督导县（市、区）" in text) == bool(own), notice.name
        assert ("另行点对点通报，并抄送你市纪委监委" in text) == bool(own)
    for county in facts.county_notices:
        text = texts[f"点对点通报_{MONTH}_{county.city_name}{county.name}.docx"]
        assert f"抄送：{county.city_name}纪委监委。" in text
