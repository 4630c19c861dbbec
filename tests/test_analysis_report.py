"""形势分析报告: its numbers are the metrics layer's (the golden file and `python -m metrics analysis`), its
sections come in the usual order, its charts draw Chinese, and a city's report holds only that city."""
from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import docx
import pandas as pd
import pytest
import sqlalchemy as sa

from data_access.identity.auth import OutOfScope
from data_access.identity.scope import WHOLE_PROVINCE, Scope
from data_access.supervision.document_register import register
from metrics import cli as metrics_cli
from metrics.analysis import analysis_facts
from metrics.request import Period
from presentation.documents import Issuance
from presentation.situation import period_label, report_title_for
from reports import cli as reports_cli
from reports.analysis_report import build_analysis_report
from tests.conftest import GOLDEN as GOLDEN_DIR

H1 = ["--from", "2024-01-01", "--to", "2024-06-30", "--as-of", "2024-06-30"]
HEADINGS = ["一、总体情况", "二、主要特点", "（一）从区域看", "（二）从领域看", "（三）从渠道看", "三、突出问题",
            "（一）部分地区、领域反映集中", "（二）办理质效有待提升", "四、意见建议"]


def url_of(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def cli_facts(engine: sa.Engine, *extra: str) -> dict:
    out = io.StringIO()
    assert metrics_cli.main(["analysis", *H1, "--db", url_of(engine), *extra], out=out) == 0
    return json.loads(out.getvalue())


def written_report(engine: sa.Engine, out_dir: Path, *extra: str) -> docx.document.Document:
    out = io.StringIO()
    assert reports_cli.main(["analysis", *H1, "--db", url_of(engine), "--out", str(out_dir), *extra], out=out) == 0
    path = Path(out.getvalue().strip())
    assert path.parent == out_dir and path.suffix == ".docx"
    return docx.Document(str(path))


def paragraphs(document: docx.document.Document) -> list[str]:
    return [p.text.replace("\n", "") for p in document.paragraphs]  # a title's lines joined


def table_rows(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def test_the_cli_numbers_equal_the_golden_tables(golden_engine: sa.Engine) -> None:
    facts = cli_facts(golden_engine)
    province = pd.read_csv(GOLDEN_DIR / "expected_h1_province.csv", dtype={"code": str}).iloc[0]
    for metric in ("received", "accepted", "due", "on_time", "first_due", "overdue", "first_overdue", "disputed", "leapfrog"):
        assert facts["current"][metric] == int(province[metric]), metric
    assert facts["current"]["on_time_rate"] == pytest.approx(float(province["on_time_rate"]), abs=1e-12)
    cities = pd.read_csv(GOLDEN_DIR / "expected_h1_city.csv", dtype={"code": str}).set_index("code")
    units = {u["code"]: u for u in facts["units"]}
    assert set(units) == set(cities.index[cities["received"] > 0]) | {c for c in units if units[c]["received"] == 0}
    for code, unit in units.items():
        assert unit["received"] == int(cities.loc[code, "received"])
        assert unit["overdue"] == int(cities.loc[code, "overdue"])
    trends = pd.read_csv(GOLDEN_DIR / "expected_h1_trends_city_domain.csv", dtype={"code": str, "value": str})
    for row in facts["hot_spots"]:  # the hot spots are the golden rising rows of the cities
        match = trends[(trends["code"] == row["code"]) & (trends["value"] == row["value"])]
        assert match["rising"].astype(str).str.lower().tolist() == ["true"]
    assert len(facts["hot_spots"]) == int(trends["rising"].astype(str).str.lower().eq("true").sum())
    by_domain = trends.groupby("value")[["received", "previous"]].sum()  # the cities add up to the province
    for row in facts["domains"]:
        assert (row["received"], row["previous"]) == tuple(int(v) for v in by_domain.loc[row["value"]]), row["value"]
    assert facts["window"] == ["2024-01-01", "2024-06-30"]


def test_the_report_holds_the_cli_numbers_in_the_usual_order(golden_engine: sa.Engine, tmp_path: Path) -> None:
    facts = cli_facts(golden_engine)
    document = written_report(golden_engine, tmp_path)
    texts = paragraphs(document)
    title = "关于2024年上半年山东省信访举报形势的分析报告"
    assert report_title_for("山东省", dt.date(2024, 1, 1), dt.date(2024, 6, 30)) == title
    assert title in texts and texts.index(title) < texts.index(HEADINGS[0])
    found = [t for t in texts if t in HEADINGS]
    assert found == HEADINGS
    body = "\n".join(texts)
    current = facts["current"]
    assert f"共收到信访举报{current['received']}件" in body
    assert f"超期未办结{current['overdue']}件，其中初次举报{current['first_overdue']}件" in body
    assert f"按期办结率{current['on_time_rate'] * 100:.1f}%" in body
    units_table, domains_table, channels_table, record = document.tables  # record: the 版记
    assert record.rows[-1].cells[0].text.endswith("印发")
    assert [r[:4] for r in table_rows(units_table)[1:]] == [
        [u["name"], str(u["received"]), str(u["previous_received"]), f"{u['change']:+d}" if u["change"] else "0"]
        for u in facts["units"]]
    assert [[r[1], r[2]] for r in table_rows(domains_table)[1:]] == [[str(d["received"]), str(d["previous"])]
                                                                     for d in facts["domains"]]
    assert sum(int(r[1]) for r in table_rows(channels_table)[1:]) == current["received"]
    assert len(document.inline_shapes) == 3  # units, domains, channels: drawn with a CJK font (png() refuses tofu)
    after = texts[texts.index("四、意见建议") + 1:]
    assert after[:6] == [""] * 6  # left for the analysts to write
    note = next(t for t in after if t.startswith("说明："))
    assert note.startswith("说明：本期2024年1月1日至2024年6月30日，与2023年7月1日至2023年12月31日及去年同期")
    for paragraph in document.paragraphs:
        for run in (r for r in paragraph.runs if r.text):  # a picture's run has no text and no fonts
            assert run.element.rPr.rFonts.get(docx.oxml.ns.qn("w:eastAsia")), run.text  # Chinese in the document's fonts


def test_a_city_report_holds_only_that_city(golden_engine: sa.Engine, tmp_path: Path) -> None:
    city = "370800"
    facts = analysis_facts(golden_engine, Period(dt.date(2024, 1, 1), dt.date(2024, 6, 30), dt.date(2024, 6, 30)),
                           scope=Scope(city))
    golden = pd.read_csv(GOLDEN_DIR / "expected_h1_city.csv", dtype={"code": str}).set_index("code")
    assert facts.region_code == city and int(facts.current["received"]) == int(golden.loc[city, "received"])
    assert set(facts.units["code"]).issubset({c for c in facts.units["code"] if c.startswith("3708")})
    assert int(facts.units["received"].sum()) == int(golden.loc[city, "received"])
    assert set(facts.priority["city_code"]) <= {city} and all(c.startswith("3708") for c in facts.signals["code"])
    document = docx.Document(io.BytesIO(build_analysis_report(facts, issuance=Issuance(dt.date(2024, 7, 5)))))
    body = "\n".join(paragraphs(document))
    assert "济宁市" in body and "2024年7月5日" in body
    others = pd.read_csv(GOLDEN_DIR / "expected_h1_county.csv", dtype={"code": str})
    assert "山东省共收到" not in body
    unit_names = [r[0] for r in table_rows(document.tables[0])[1:]]
    assert unit_names == facts.units["name"].tolist() and len(unit_names) == len(others[others["code"].str.startswith("3708")])
    with pytest.raises(OutOfScope):  # another city's report is not a city user's to make
        analysis_facts(golden_engine, Period(dt.date(2024, 1, 1), dt.date(2024, 6, 30)), scope=Scope(city), region="370100")


def test_a_report_cut_at_the_as_of_date_says_so(golden_engine: sa.Engine) -> None:
    facts = analysis_facts(golden_engine, Period(dt.date(2024, 1, 1), dt.date(2024, 3, 31), dt.date(2024, 2, 15)),
                           scope=WHOLE_PROVINCE)
    assert facts.window == (dt.date(2024, 1, 1), dt.date(2024, 2, 15))
    assert facts.previous_window == (dt.date(2023, 10, 2), dt.date(2023, 11, 16))
    now, before, ago = int(facts.current["received"]), int(facts.previous["received"]), int(facts.year_ago["received"])
    assert facts.prior_window == facts.previous_window and facts.year_ago_window == (dt.date(2023, 1, 1), dt.date(2023, 2, 15))
    body = "\n".join(paragraphs(docx.Document(io.BytesIO(build_analysis_report(facts)))))

    def move(a: int, b: int) -> str:
        return f"{'增加' if a > b else '减少'}{abs(a - b)}件" + (f"（{(a - b) / b * 100:+.1f}%）" if b else "")

    assert (f"2024年1月1日至2024年3月31日（截至2024年2月15日），山东省共收到信访举报{now}件，比上期（2023年10月2日至"
            f"2023年11月16日，{before}件）{move(now, before)}，比去年同期（{ago}件）{move(now, ago)}。") in body


def test_a_half_year_is_compared_with_the_half_year_before_and_a_year_ago(golden_engine: sa.Engine) -> None:
    facts = analysis_facts(golden_engine, Period(dt.date(2024, 1, 1), dt.date(2024, 6, 30), dt.date(2024, 6, 30)),
                           scope=WHOLE_PROVINCE)
    assert facts.prior_window == (dt.date(2023, 7, 1), dt.date(2023, 12, 31))
    assert facts.year_ago_window == (dt.date(2023, 1, 1), dt.date(2023, 6, 30))
    body = "\n".join(paragraphs(docx.Document(io.BytesIO(build_analysis_report(facts)))))
    assert f"比2023年下半年（{int(facts.prior['received'])}件）" in body
    overall = body.split("一、总体情况")[1].split("二、主要特点")[0]
    assert f"比去年同期（{int(facts.year_ago['received'])}件）" in overall and "上期" not in overall
    assert "较2023年下半年" in body and "较去年同期" in body
    for jargon in ("z=", "z≥", "泊松", "控制下限", "基线", "漏斗图"):  # statistics stay in the note
        assert jargon not in body.split("说明：")[0], jargon
    assert "泊松检验" in body.split("说明：")[1]


def test_an_empty_previous_span_is_compared_without_a_percentage(golden_engine: sa.Engine) -> None:
    facts = analysis_facts(golden_engine, Period(dt.date(2022, 7, 1), dt.date(2022, 12, 31), dt.date(2022, 12, 31)),
                           scope=WHOLE_PROVINCE)  # the golden cases start on 2022-07-01
    assert int(facts.previous["received"]) == 0 and int(facts.current["received"]) > 0
    body = "\n".join(paragraphs(docx.Document(io.BytesIO(build_analysis_report(facts)))))
    assert f"2022年下半年，山东省共收到信访举报{int(facts.current['received'])}件，比2022年上半年（0件）" \
           f"增加{int(facts.current['received'])}件，" in body
    assert "按期办结率" in body and "较2022年上半年无法比较" in body
    assert "%）" not in body.split("按期办结率")[0].split("增加")[1]  # no percentage against nothing


@pytest.mark.parametrize(("args", "message"), [(["--region", "999999"], "999999"),
                                               (["--region", "abc"], "abc")])
def test_a_bad_region_is_bad_usage(golden_engine: sa.Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   args: list[str], message: str) -> None:
    assert reports_cli.main(["analysis", *H1, "--db", url_of(golden_engine), "--out", str(tmp_path), *args]) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_the_command_issues_the_report_dated_as_asked(golden_engine: sa.Engine, tmp_path: Path) -> None:
    """--date is the 成文日期; the report takes a 文号 from the register when it is written (and a new one again)."""
    first = written_report(golden_engine, tmp_path / "a", "--date", "2024-07-08")
    again = written_report(golden_engine, tmp_path / "b", "--date", "2024-07-09")
    numbers = [next(t for t in paragraphs(d) if "〔2024〕" in t).strip() for d in (first, again)]
    assert all(re.fullmatch(r"鲁纪信析〔2024〕\d+号", n) for n in numbers) and numbers[0] != numbers[1]
    assert "2024年7月8日" in "\n".join(paragraphs(first)) and "2024年7月9日" in "\n".join(paragraphs(again))
    rows = register(golden_engine).set_index("number")
    assert rows.loc[numbers[1], "replaces"] == numbers[0] and rows.loc[numbers[0], "dated"] == dt.date(2024, 7, 8)


def test_the_weekly_command_refuses_a_deadline_before_its_date(golden_engine: sa.Engine, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert reports_cli.main(["weekly", "--db", url_of(golden_engine), "--as-of", "2024-06-30", "--date", "2024-07-01",
                             "--due", "2024-06-28", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "早于成文日期" in err and len(err.splitlines()) == 1 and not out.exists()


def test_period_labels() -> None:
    assert period_label(dt.date(2024, 1, 1), dt.date(2024, 6, 30)) == "2024年上半年"
    assert period_label(dt.date(2024, 7, 1), dt.date(2024, 12, 31)) == "2024年下半年"
    assert period_label(dt.date(2024, 1, 1), dt.date(2024, 12, 31)) == "2024年"
    assert period_label(dt.date(2024, 2, 1), dt.date(2024, 4, 30)) == "2024年2月1日至2024年4月30日"
