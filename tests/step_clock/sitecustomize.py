"""Browser tests only: a server.py process started with this folder first on PYTHONPATH stamps the campaign's steps
with the moment written (ISO) in the file named by $CAMPAIGN_STEP_CLOCK, as the AppTest tests monkeypatch
data_access.supervision.campaign._now. The 积案化解 page and the 周例会 count a step at a 截止日期 only when it was taken by the
end of that day, and the golden cases are of 2024: steps stamped with today's clock would not show at their dates."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path


def _stamp_steps_from_the_file() -> None:
    clock = os.environ.get("CAMPAIGN_STEP_CLOCK")
    if not clock:
        return
    from data_access.supervision import campaign

    ticks = iter(range(10**9))  # a second apart, so steps and notes taken at one stamped moment keep their order

    def now() -> dt.datetime:
        return dt.datetime.fromisoformat(Path(clock).read_text(encoding="utf-8").strip()) + dt.timedelta(seconds=next(ticks))

    campaign._now = now


_stamp_steps_from_the_file()
