"""越级重复举报专项治理's Word documents read back (reports.campaign_docs through the official-document writer), on
every engine: a city's 交办函 lists its matters not yet 案结事了 with their 包案领导 and 限期办结, takes its 文号 from
the register when issued and is refused outside the issuer's region; a matter's 一案一档 holds its reports in order
with level and channel, the 包案 record, the steps, the notes and the 督办 items of its cases, as of a date."""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import docx
import pytest
import sqlalchemy as sa

from data_access.identity.auth import OutOfScope
from data_access.identity.scope import WHOLE_PROVINCE, Scope
from data_access.supervision import campaign, ledger
from data_access.supervision.document_register import issue
from metrics.campaign_week import DOSSIER_REPORT_COLUMNS, NotACity, city_letter, matter_dossier
from presentation.documents import DEFAULT_DOCUMENT_SETTINGS, Issuance
from reports import cli as reports_cli
from reports.campaign_docs import build_dossier, build_letter, dossier_name, letter_draft, letter_name
from tests import test_campaign
from tests.test_campaign import JINAN_CITY, JINING, JINING_CITY, PROVINCE, RENCHENG, SCREENING, WEISHAN, WEISHAN_COUNTY
from tests.test_campaign_week import run_campaign
from tests.test_metrics_edges import CASE_LIST_ALLOWED
from tests.test_monthly_pack import url_of

db = test_campaign.db  # its matters' reports, the campaign's tables emptied
APRIL = dt.date(2024, 4, 10)
DATED = dt.date(2024, 4, 11)


def text(content: bytes) -> str:
    """A .docx's paragraphs, then its table cells, one to a line."""
    document = docx.Document(io.BytesIO(content))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def table_rows(content: bytes, *header: str) -> list[list[str]]:
    """The body rows of the document's first table whose header row begins with `header`."""
    document = docx.Document(io.BytesIO(content))
    for table in document.tables:
        rows = [[cell.text for cell in row.cells] for row in table.rows]
        if rows and tuple(rows[0][:len(header)]) == header:
            return rows[1:]
    raise AssertionError(f"no table headed {header}")


def test_the_letter_to_a_city_lists_its_matters_with_leader_and_deadline(db: sa.Engine) -> None:
    run_campaign(db)
    letter = city_letter(db, JINING, APRIL, scope=WHOLE_PROVINCE)
    assert letter.city_name == "济宁市" and letter.matters["matter"].tolist() == ["M-REN", "M-WEI"]
    draft = build_letter(letter)
    assert "鲁纪信交〔2024〕　　号" in text(draft)  # a draft: the number blank
    due = DEFAULT_DOCUMENT_SETTINGS.reply_due(DATED)
    (issued,), _ = issue(db, PROVINCE, [letter_draft(letter, DEFAULT_DOCUMENT_SETTINGS, "全省", due)], DATED)
    assert issued.number == "鲁纪信交〔2024〕1号" and issued.recipient == "济宁市纪委监委"
    content = build_letter(letter, issuance=Issuance(DATED, issued.number, due))
    body = text(content)
    assert issued.number in body and "济宁市纪委监委：" in body and "山东省纪委监委信访室" in body
    assert "你市纳入专项治理、尚未案结事了的越级重复举报事项共2件" in body
    assert table_rows(content, "序号") == [
        ["1", "M-REN", "任城区", "3", "已化解", "济宁市纪委副书记李某某", "2024-03-31"],
        ["2", "M-WEI", "微山县", "3", "已交办", "未包案", "2024-03-31"]]
    assert "尚未确定包案领导的1件" in body and "已超过限期的2件" in body
    assert f"请于{due.year}年{due.month}月{due.day}日前" in body
    assert letter_name(letter) == "专项治理交办函_济宁市_2024-04-10.docx"
    # once settled, M-REN leaves the letter
    assert city_letter(db, JINING, dt.date(2024, 7, 3), scope=Scope(JINING)).matters["matter"].tolist() == ["M-WEI"]


def test_the_letter_is_refused_outside_the_region(db: sa.Engine) -> None:
    run_campaign(db)
    with pytest.raises(OutOfScope):
        city_letter(db, JINING, APRIL, scope=Scope(RENCHENG))  # a county writes to no city
    with pytest.raises(OutOfScope):
        city_letter(db, JINING, APRIL, scope=Scope(JINAN_CITY.region_code))
    with pytest.raises(NotACity):
        city_letter(db, RENCHENG, APRIL, scope=WHOLE_PROVINCE)
    letter = city_letter(db, JINING, APRIL, scope=Scope(JINING))
    with pytest.raises(OutOfScope):  # the register: Jinan's office may not write to Jining
        issue(db, JINAN_CITY, [letter_draft(letter, DEFAULT_DOCUMENT_SETTINGS, "济南市", DATED)], DATED)


def test_the_dossier_of_a_matter(db: sa.Engine) -> None:
    ren, _, _ = run_campaign(db)
    item = ledger.open_item(db, PROVINCE, county_code=RENCHENG, title="重复举报事项久拖未决，请说明原因",
                            reason="请于期限内书面反馈核查和化解情况", method="letter", reply_due=dt.date(2024, 7, 10),
                            case_id="M-REN-2", now=dt.datetime(2024, 6, 1, 9))
    dossier = matter_dossier(db, ren, dt.date(2024, 7, 3), scope=Scope(JINING))
    assert dossier is not None and dossier.items["id"].tolist() == [item]
    content = build_dossier(dossier, dated=dt.date(2024, 7, 4))
    body = text(content)
    assert "事项编号M-REN，承办单位济宁市任城区，截至2024年7月3日共有举报3件" in body
    assert "现状态为“案结事了”，包案领导济宁市纪委副书记李某某" in body
    assert table_rows(content, "序号")[:3] == [
        ["1", "M-REN-0", "2023-05-04", "县纪委监委", "来信", "教育医疗", "2023-05-04", "否"],
        ["2", "M-REN-1", "2023-11-06", "市纪委监委", "来访", "教育医疗", "2023-11-06", "否"],
        ["3", "M-REN-2", "2024-02-01", "省纪委监委", "网络", "教育医疗", "2024-02-01", "否"]]
    assert [row[0] for row in table_rows(content, "时间", "步骤")] == [
        "2024-03-04 09:00", "2024-03-05 09:00", "2024-03-24 09:00", "2024-04-03 15:00", "2024-07-02 10:00"]
    assert "变更包案领导 济宁市纪委副书记李某某" in body and "已逐项答复，所涉问题整改到位" in body
    assert table_rows(content, "件号") == [["M-REN-2", "重复举报事项久拖未决，请说明原因", "发函督办", "2024-07-10", "挂账"]]
    assert dossier_name(dossier) == "一案一档_M-REN_2024-07-03.docx"
    # as of the week of enrolment: one 包案 record, no note, the state then
    early = matter_dossier(db, ren, dt.date(2024, 3, 6), scope=WHOLE_PROVINCE)
    assert early is not None and len(early.assignments) == 1 and early.notes.empty
    assert "现状态为“已包案”，包案领导任城区纪委书记张某某" in text(build_dossier(early))
    assert matter_dossier(db, ren, dt.date(2024, 7, 3), scope=Scope(WEISHAN)) is None  # outside the viewer's region
    assert matter_dossier(db, ren, dt.date(2024, 3, 1), scope=WHOLE_PROVINCE) is None  # not yet enrolled


def test_a_progress_note_is_in_the_dossier(db: sa.Engine) -> None:
    row_id = campaign.enrol(db, JINING_CITY, "M-WEI", deadline=dt.date(2024, 6, 30), as_of=APRIL, screening=SCREENING,
                            now=dt.datetime(2024, 4, 10, 9))
    campaign.assign(db, JINING_CITY, row_id, leader_name="赵某某", leader_post="微山县纪委书记", team="县纪委信访室",
                    plan="逐件核查答复", now=dt.datetime(2024, 4, 10, 10))
    campaign.note_progress(db, WEISHAN_COUNTY, row_id, note="已召开专班会议，核查 2 项问题", now=dt.datetime(2024, 4, 12, 9))
    dossier = matter_dossier(db, row_id, dt.date(2024, 4, 12), scope=Scope(WEISHAN))
    assert dossier is not None
    assert table_rows(build_dossier(dossier), "时间", "类别") == [["2024-04-12 09:00", "进展", "已召开专班会议，核查 2 项问题"]]




def test_the_command_line_writes_both(db: sa.Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_campaign(db)
    common = ["--db", url_of(db), "--as-of", APRIL.isoformat(), "--out", str(tmp_path)]
    assert reports_cli.main(["campaign-letter", "--city", JINING, "--check", *common], out=io.StringIO()) == 0
    drafted = tmp_path / "专项治理交办函_济宁市_2024-04-10.docx"
    assert f"鲁纪信交〔{dt.date.today().year}〕　　号" in text(drafted.read_bytes())  # --date: today
    printed = io.StringIO()
    assert reports_cli.main(["campaign-letter", "--city", JINING, "--date", DATED.isoformat(), *common], out=printed) == 0
    assert printed.getvalue().split() == [str(drafted)]
    assert "鲁纪信交〔2024〕1号" in text(drafted.read_bytes()) and "鲁纪信交〔2024〕1号（2 件事项" in capsys.readouterr().err
    assert table_rows(drafted.read_bytes(), "序号")[0][:2] == ["1", "M-REN"]
    assert reports_cli.main(["campaign-letter", "--city", RENCHENG, *common], out=io.StringIO()) == 2
    assert reports_cli.main(["matter-dossier", "--matter", "M-REN", *common], out=io.StringIO()) == 0
    body = text((tmp_path / "一案一档_M-REN_2024-04-10.docx").read_bytes())
    assert "事项编号M-REN，承办单位济宁市任城区" in body and "现状态为“已化解”" in body
    assert reports_cli.main(["matter-dossier", "--matter", "M-TWO", *common], out=io.StringIO()) == 2
    assert "未纳入专项治理" in capsys.readouterr().err


def test_the_dossiers_report_list_shows_only_what_a_case_list_may() -> None:
    """The 一案一档's reports carry the case lists' allowed columns (tests/test_metrics_edges.py), no reporter identity."""
    assert set(DOSSIER_REPORT_COLUMNS) <= CASE_LIST_ALLOWED
