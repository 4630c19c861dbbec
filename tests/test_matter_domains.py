"""形势分析's screened matters by domain (metrics.matter_domains) on every engine: each screened matter counted once,
in the domain of its latest report, with its reports and tier; a matter not screened, or not received by the as-of
date, is not counted; the parent keeps the matters whose latest report lies under it."""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import docx
import pandas as pd
import pytest
import sqlalchemy as sa

import pages.analysis
from data_access.imports.importer import import_bytes
from data_access.store.database import init_database
from data_access.store.engine import make_engine
from metrics import summary
from metrics.matter_domains import DOMAIN_COLUMNS, screened_by_domain
from metrics.matters import case_source
from presentation.campaign import matter_domain_paragraph
from presentation.format import plain_markdown
from tests.test_access import Spy
from tests.test_analysis_periods import open_analysis
from tests.test_campaign import LIXIA, RENCHENG, WEISHAN, reports_of
from tests.test_importer import csv_bytes

AS_OF = dt.date(2024, 3, 1)


def with_domains(rows: list[dict[str, str]], *domains: str) -> list[dict[str, str]]:
    return [{**row, "domain": domain} for row, domain in zip(rows, domains, strict=True)]


def load(engine: sa.Engine) -> sa.Engine:
    rows = [*with_domains(reports_of("M-REN", RENCHENG, count=4), "教育医疗", "教育医疗", "教育医疗", "养老社保"),
            *with_domains(reports_of("M-WEI", WEISHAN), "生态环保", "生态环保", "教育医疗"),
            *with_domains(reports_of("M-LIX", LIXIA), "养老社保", "养老社保", "养老社保"),
            *with_domains(reports_of("M-TWO", RENCHENG, count=2), "生态环保", "生态环保")]
    import_bytes(engine, csv_bytes(rows), "cases.csv")
    return engine


@pytest.fixture(params=["linked", "cases"])
def loaded(engine: sa.Engine, request: pytest.FixtureRequest) -> sa.Engine:
    """The cases above, read from the stored linked cases the import builds, or from the case table (their state row
    removed, as on a database whose linked cases are stale)."""
    load(engine)
    if request.param == "cases":
        with engine.begin() as conn:
            conn.execute(summary.summary_state.delete().where(summary.summary_state.c.name == summary.LINKS_STATE))
    with engine.connect() as conn:
        found = case_source(conn)
    assert found is not None and found.linked is (request.param == "linked")
    return engine


def test_each_matter_in_the_domain_of_its_latest_report(loaded: sa.Engine) -> None:
    frame = screened_by_domain(loaded, AS_OF)
    assert list(frame.columns) == list(DOMAIN_COLUMNS)
    # M-REN's latest (2024-02-05) is 养老社保, M-WEI's 教育医疗, M-LIX's 养老社保; M-TWO (2 reports) is not screened
    assert frame[["domain", "matters", "reports", "serious"]].to_dict("records") == [
        {"domain": "养老社保", "matters": 2, "reports": 7, "serious": 0},
        {"domain": "教育医疗", "matters": 1, "reports": 3, "serious": 0}]
    assert frame["share"].tolist() == [2 / 3, 1 / 3]


def test_the_date_and_the_parent(loaded: sa.Engine) -> None:
    engine = loaded
    # on 2024-02-03 M-REN's fourth report has not come: its latest is 教育医疗
    early = screened_by_domain(engine, dt.date(2024, 2, 3))
    assert dict(zip(early["domain"], early["matters"], strict=True)) == {"养老社保": 1, "教育医疗": 2}
    jining = screened_by_domain(engine, AS_OF, parent="370800")
    assert dict(zip(jining["domain"], jining["matters"], strict=True)) == {"养老社保": 1, "教育医疗": 1}
    assert screened_by_domain(engine, dt.date(2023, 1, 1)).empty
    assert pd.api.types.is_integer_dtype(jining["matters"])


def test_the_page_and_the_report_state_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"duckdb:///{tmp_path / 'matters.duckdb'}"
    engine = make_engine(url)
    init_database(engine)
    load(engine)
    monkeypatch.setenv("DATABASE_URL", url)
    spy = Spy(monkeypatch)
    spy.wrap(pages.analysis, "recorded_download")
    at = open_analysis(AS_OF.isoformat())
    at.segmented_control(key="analysis_span").set_value("last12").run()  # 2023-03-02 .. 2024-03-01
    assert not at.exception, [e.value for e in at.exception]
    rows = screened_by_domain(engine, AS_OF)
    sentence = matter_domain_paragraph(rows, AS_OF, "山东省")
    assert sentence == ("截至2024年3月1日，山东省列入筛选的越级重复举报积案3件（涉及举报10件，其中突出0件）。"
                        "按最近一次举报所属领域，养老社保2件、教育医疗1件。")
    assert plain_markdown(sentence) in [m.value for m in at.markdown]
    (table,) = [d.value for d in at.dataframe if "积案" in d.value.columns]
    assert table.to_dict("records") == [{"领域": "养老社保", "积案": 2, "涉及举报": 7, "其中突出": 0, "占比": "66.7%"},
                                        {"领域": "教育医疗", "积案": 1, "涉及举报": 3, "其中突出": 0, "占比": "33.3%"}]
    *_, ((_, name), _, build) = [call for call in spy.calls["recorded_download"] if call[0][1].endswith(".docx")]
    assert name.endswith("_2023-03-02_2024-03-01.docx")  # the last run's: the span chosen
    report = docx.Document(io.BytesIO(build()))
    assert sentence in [p.text for p in report.paragraphs]
    cells = [[c.text for c in row.cells] for t in report.tables for row in t.rows]
    assert ["养老社保", "2", "7", "0", "66.7%"] in cells and ["教育医疗", "1", "3", "0", "33.3%"] in cells
    engine.dispose()
