"""The settings in force, for the 指标口径 page: every value of the settings file's sections, with its
meaning and unit, and where the file is."""
from __future__ import annotations

import pandas as pd

from data_access.store.config import described, settings_path

from . import runtime


def settings_in_force() -> pd.DataFrame:
    """One row per setting: 设置项 (its meaning), 当前值, 设置文件中的写法 (the file's section and key,
    for whoever edits the file) — metrics first, then sign-in, then what an uploaded file may cost."""
    rows = [(label, value, f"[metrics] {key}") for key, label, value in described(runtime.settings())]
    rows += [(label, value, f"[sign_in] {key}") for key, label, value in described(runtime.sign_in_settings())]
    rows += [(label, value, f"[import] {key}") for key, label, value in described(runtime.import_limits())]
    return pd.DataFrame(rows, columns=["设置项", "当前值", "设置文件中的写法"])


def settings_file() -> str:
    """The settings file's path as text (it may not exist: then every default is in force)."""
    path = settings_path()
    return str(path) if path.exists() else f"{path}（文件不存在，全部取默认值）"
