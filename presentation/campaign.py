"""越级重复举报专项治理 in people's terms: the campaign list of metrics.campaign_week with Chinese headers and labels,
and the meeting's sentence — one wording for the 周例会 page, its deck and workbook."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from data_access.supervision.campaign import State
from metrics.campaign_week import CampaignWeek
from presentation.format import cn_date

LIST_COLUMNS = {"matter": "事项编号", "city_name": "所属市", "county_name": "承办县（市、区）", "state": "状态",
                "leader": "包案领导", "deadline": "限期办结", "reports": "举报件数", "overdue": "超期未化解",
                "relapse": "反弹", "new_reports": "未记录的新举报", "enrolled_on": "纳入日期",
                "enrolled_this_week": "本周新纳入", "resolved_this_week": "本周化解", "settled_this_week": "本周案结事了"}
FLAGS = ("overdue", "relapse", "enrolled_this_week", "resolved_this_week", "settled_this_week")
NO_LEADER = "未包案"
DOMAINS_NAMED = 5  # the domains the 形势分析 sentence names (the table lists them all)


def state_label(value: str) -> str:
    """已交办, 已包案, 已化解, 案结事了, 反弹."""
    return State(value).label


def campaign_rows(week: CampaignWeek, attention_only: bool = False) -> pd.DataFrame:
    """The campaign list (or only its overdue and relapsed matters) with LIST_COLUMNS' headers, 是/否 for flags."""
    frame = week.attention if attention_only else week.matters
    if frame.empty:
        return pd.DataFrame(columns=list(LIST_COLUMNS.values()))
    out = frame[list(LIST_COLUMNS)].copy()
    out["state"] = out["state"].map(state_label)
    out["leader"] = out["leader"].where(out["leader"] != "", NO_LEADER)
    for flag in FLAGS:
        out[flag] = out[flag].map(lambda v: "是" if bool(v) else "否")
    return out.rename(columns=LIST_COLUMNS).reset_index(drop=True)


def campaign_sentence(week: CampaignWeek) -> str:
    """纳入专项治理 12 件，本周新纳入 2 件、化解 1 件、案结事了 0 件；超期未化解 3 件，反弹 1 件: the slide's title and the
    page's and workbook's line."""
    c = week.counts
    return (f"纳入专项治理 {c.enrolled} 件，本周新纳入 {c.enrolled_this_week} 件、化解 {c.resolved_this_week} 件、"
            f"案结事了 {c.settled_this_week} 件；超期未化解 {c.overdue} 件，反弹 {c.relapsed} 件")


def matter_domain_paragraph(rows: pd.DataFrame, as_of: dt.date, region_name: str) -> str:
    """截至…，列入筛选的越级重复举报积案N件（涉及举报M件，其中突出K件）；按最近一次举报的领域，…: the 形势分析 page's
    and report's sentence on metrics.matter_domains.screened_by_domain."""
    if rows.empty:
        return f"截至{cn_date(as_of)}，{region_name}没有列入筛选的越级重复举报积案。"
    total, reports, serious = int(rows["matters"].sum()), int(rows["reports"].sum()), int(rows["serious"].sum())
    named = "、".join(f"{r.domain}{int(r.matters)}件" for r in rows.head(DOMAINS_NAMED).itertuples())
    top = rows.head(3)
    lead = (f"，居前{len(top)}位的领域合计占{float(top['share'].sum()) * 100:.1f}%" if len(rows) > len(top) else "")
    return (f"截至{cn_date(as_of)}，{region_name}列入筛选的越级重复举报积案{total}件（涉及举报{reports}件，其中突出{serious}件）。"
            f"按最近一次举报所属领域，{named}{'等' if len(rows) > DOMAINS_NAMED else ''}{lead}。")


def matter_domain_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The table under it: 领域 | 积案 | 涉及举报 | 其中突出 | 占比 (a percentage with one decimal)."""
    return pd.DataFrame({"领域": rows["domain"], "积案": rows["matters"], "涉及举报": rows["reports"],
                         "其中突出": rows["serious"], "占比": [f"{v * 100:.1f}%" for v in rows["share"]]})
