"""One write from a page (a ledger step, a 12388 answer, a 抽查): run it, and either remember what was done and
rerun, or say in Chinese why nothing was written. The data layer decides; this only reports its answer."""
from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from data_access.identity.auth import OutOfScope
from data_access.supervision.ledger import LedgerRefused, StaleStep


def take_step(step: Callable[[], object], done: str, done_key: str, after: Callable[[], None] | None = None) -> None:
    """Run `step`; on success keep `done` under `done_key` for the next run, toast it, call `after`, and rerun."""
    try:
        step()
    except (LedgerRefused, OutOfScope) as refused:  # its content or the user's scope or role (CycleRefused too)
        st.error(f"未保存：{refused}")
        return
    except StaleStep as stale:
        st.warning(str(stale))
        return
    st.session_state[done_key] = done
    st.toast(done, icon=":material/check_circle:")  # seen wherever the page is scrolled
    if after is not None:
        after()
    st.rerun()
