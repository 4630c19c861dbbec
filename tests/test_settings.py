"""The deployment's settings file: the committed file holds the defaults of metrics.md, every wrong value
is refused with a Chinese message naming key and value, and a changed value changes the numbers the
command line prints, as the API computes them."""
from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from data_access.identity.auth import SignInSettings, load_sign_in_settings
from data_access.identity.scope import WHOLE_PROVINCE
from data_access.reference.enums import Level
from data_access.store.config import DEFAULT_SETTINGS_FILE, SETTINGS_ENV, SettingsError, described, read_settings_file
from data_access.store.engine import DUCKDB_MEMORY_VARIABLE, BadMemoryLimit, make_engine
from metrics.cli import main as metrics_main
from metrics.request import Period, TableRequest
from metrics.settings import DEFAULT_SETTINGS, Settings, load_settings
from metrics.table import region_table
from tests.conftest import REPO_ROOT


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_the_committed_file_is_the_one_read_by_default_and_holds_the_defaults() -> None:
    assert DEFAULT_SETTINGS_FILE == REPO_ROOT / "settings.toml"
    assert load_settings(DEFAULT_SETTINGS_FILE) == DEFAULT_SETTINGS == Settings()
    assert load_sign_in_settings(DEFAULT_SETTINGS_FILE) == SignInSettings()
    assert set(read_settings_file(DEFAULT_SETTINGS_FILE)["metrics"]) == {f.name for f in dataclasses.fields(Settings)}


def test_defaults_are_those_of_metrics_md() -> None:
    s = DEFAULT_SETTINGS
    assert (s.default_due_days, s.min_volume, s.z_priority, s.z_watch) == (60, 10, 1.96, 3.09)
    assert s.warning_workdays == 5
    assert (s.spc_recent_weeks, s.spc_baseline_weeks, s.spc_sigma, s.spc_min_baseline_due) == (8, 26, 3.0, 30)
    assert (s.spc_shift_run, s.spc_trend_run) == (7, 5)
    assert SignInSettings().idle_timeout_hours == 8


def test_a_file_overrides_what_it_names_and_keeps_the_rest(tmp_path: Path) -> None:
    path = write(tmp_path, "[metrics]\ndefault_due_days = 45\nz_priority = 2\n[sign_in]\nidle_timeout_hours = 1.5\n")
    s = load_settings(path)
    assert s.default_due_days == 45 and s.z_priority == 2.0 and isinstance(s.z_priority, float)
    assert s.min_volume == 10
    assert load_sign_in_settings(path).idle_timeout_hours == 1.5


@pytest.mark.parametrize(("body", "words"), [
    ("[metrics]\ndefault_due_days = 0\n", ["default_due_days", "= 0", "1 至 365"]),
    ("[metrics]\ndefault_due_days = 4.5\n", ["default_due_days", "4.5", "应为整数"]),
    ("[metrics]\nmin_volume = true\n", ["min_volume", "True", "应为整数"]),
    ("[metrics]\nz_watch = \"3\"\n", ["z_watch", "'3'", "应为数值"]),
    ("[metrics]\nz_watch = 1.5\n", ["z_watch", "1.5", "不应小于 z_priority"]),
    ("[metrics]\nspc_shift_run = 9\n", ["spc_shift_run", "spc_recent_weeks = 8"]),
    ("[metrics]\ndue_days = 30\n", ["未知设置项 due_days", "default_due_days"]),
    ("[metric]\ndefault_due_days = 30\n", ["未知的节 metric", "metrics"]),
    ("[metrics\n", ["格式错误"]),
    ("[sign_in]\nidle_timeout_hours = 0\n", ["idle_timeout_hours", "0.25 至 72"]),
])
def test_a_wrong_value_is_refused_naming_the_key_and_value(tmp_path: Path, body: str, words: list[str]) -> None:
    path = write(tmp_path, body)
    with pytest.raises(SettingsError) as refused:
        load_settings(path)
        load_sign_in_settings(path)
    message = str(refused.value)
    assert str(path) in message
    for word in words:
        assert word in message, message


def test_a_file_named_by_the_environment_must_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SETTINGS_ENV, str(tmp_path / "missing.toml"))
    with pytest.raises(SettingsError, match="无法读取设置文件"):
        load_settings()


def test_described_lists_every_setting_with_its_label_and_unit() -> None:
    rows = described(DEFAULT_SETTINGS)
    assert [key for key, _, _ in rows] == [f.name for f in dataclasses.fields(Settings)]
    assert ("default_due_days", "办理期限为空时的默认期限（收件后）", "60 天") in rows


def test_the_command_line_follows_the_file(golden_engine: sa.Engine, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """default_due_days = 30 moves the due dates of the cases without one: the CLI prints what the API
    computes with the same setting, and not what it computes with the default."""
    monkeypatch.setenv(SETTINGS_ENV, str(write(tmp_path, "[metrics]\ndefault_due_days = 30\n")))
    url = golden_engine.url.render_as_string(hide_password=False)
    out = io.StringIO()
    args = ["table", "--level", "city", "--from", "2024-01-01", "--to", "2024-06-30", "--db", url]
    assert metrics_main(args, out=out) == 0
    printed = pd.read_csv(io.StringIO(out.getvalue()), dtype={"code": str}).set_index("code")
    period = Period(pd.Timestamp("2024-01-01").date(), pd.Timestamp("2024-06-30").date())
    request = TableRequest(Level.CITY, period, scope=WHOLE_PROVINCE)
    thirty = region_table(golden_engine, request, Settings(default_due_days=30)).set_index("code")
    sixty = region_table(golden_engine, request).set_index("code")
    assert printed["due"].tolist() == thirty["due"].tolist()
    assert thirty["due"].tolist() != sixty["due"].tolist()


def test_the_command_line_refuses_a_wrong_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(SETTINGS_ENV, str(write(tmp_path, "[metrics]\nmin_volume = -1\n")))
    assert metrics_main(["overdue"], out=io.StringIO()) == 2
    assert "min_volume" in capsys.readouterr().err


@pytest.mark.parametrize(("limit", "mib"), [("1GB", 953.6), ("512MiB", 512.0)])
def test_the_duckdb_memory_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, limit: str, mib: float) -> None:
    monkeypatch.setenv(DUCKDB_MEMORY_VARIABLE, limit)
    engine = make_engine("duckdb:///:memory:")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT current_setting('memory_limit')")).scalar() == f"{mib:.1f} MiB"
    engine.dispose()


def test_a_wrong_duckdb_memory_limit_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DUCKDB_MEMORY_VARIABLE, "2 gigs")
    with pytest.raises(BadMemoryLimit, match="PETITION_DUCKDB_MEMORY_LIMIT.*2 gigs.*2GB") as refused:
        make_engine("duckdb:///:memory:")
    assert isinstance(refused.value, SettingsError)
