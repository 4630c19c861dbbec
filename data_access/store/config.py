"""The deployment's settings file (TOML): read once at start, every value checked, errors in Chinese.

One file holds what a deployment may change: the metric definitions' local choices ([metrics]),
sign-in ([sign_in]), the 12388 monthly cycle ([hotline]), the documents' issuer ([documents]) and what an
uploaded file may cost ([import]). It is `settings.toml` beside app.py
unless $PETITION_SETTINGS names another; a missing default file means every default. Each section is
a frozen dataclass whose fields carry their Chinese label, unit and allowed range as metadata: the
same metadata validates the file and lets the 指标口径 page show the values in force.
"""
from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

SETTINGS_ENV = "PETITION_SETTINGS"
DEFAULT_SETTINGS_FILE = Path(__file__).resolve().parents[2] / "settings.toml"
SECTIONS = ("metrics", "sign_in", "hotline", "documents", "import")

T = TypeVar("T")


class SettingsError(ValueError):
    """The settings file cannot be used; the message names the file, the key and the value."""


def setting(default: float, label: str, unit: str, low: float, high: float) -> Any:
    """A dataclass field of a settings section: its default, Chinese label and unit, and the closed
    range [low, high] a value must lie in (an int field takes whole numbers only)."""
    return dataclasses.field(default=default, metadata={"label": label, "unit": unit, "low": low, "high": high})


def settings_path() -> Path:
    """The file in force: $PETITION_SETTINGS, else settings.toml beside app.py."""
    named = os.environ.get(SETTINGS_ENV)
    return Path(named) if named else DEFAULT_SETTINGS_FILE


def read_settings_file(path: Path | None = None) -> dict[str, Any]:
    """The parsed file ({} when the default file does not exist; a named file must exist)."""
    path = path or settings_path()
    if not path.exists() and path == DEFAULT_SETTINGS_FILE:
        return {}
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except OSError as exc:
        raise SettingsError(f"无法读取设置文件 {path} / cannot read the settings file: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"设置文件 {path} 格式错误 / not valid TOML: {exc}") from exc
    unknown = sorted(set(document) - set(SECTIONS))
    if unknown:
        raise SettingsError(f"设置文件 {path}：未知的节 {'、'.join(unknown)}（可用：{'、'.join(SECTIONS)}）/ unknown section")
    return document


def section(document: Mapping[str, Any], name: str, cls: type[T], path: Path | None = None) -> T:
    """The section `name` of a parsed file as an instance of the dataclass `cls`, every value checked."""
    where = f"设置文件 {path or settings_path()} [{name}]"
    values = document.get(name, {})
    if not isinstance(values, Mapping):
        raise SettingsError(f"{where}：应为一节键值 / must be a table")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise SettingsError(f"{where}：未知设置项 {'、'.join(unknown)}（可用：{'、'.join(fields)}）/ unknown key")
    checked = {key: _checked(where, fields[key], value) for key, value in values.items()}
    try:
        return cls(**checked)
    except SettingsError as exc:  # a rule across fields (__post_init__)
        raise SettingsError(f"{where}：{exc}") from exc


def _checked(where: str, field: dataclasses.Field[Any], value: object) -> float:
    meta = field.metadata
    whole = isinstance(field.default, int)
    kind_ok = isinstance(value, int) if whole else isinstance(value, (int, float))
    if isinstance(value, bool) or not kind_ok or not isinstance(value, (int, float)):
        wanted = "整数 / an integer" if whole else "数值 / a number"
        raise SettingsError(f"{where} {field.name}（{meta['label']}）= {value!r}：应为{wanted}")
    if not meta["low"] <= value <= meta["high"]:
        raise SettingsError(f"{where} {field.name}（{meta['label']}）= {value!r}：应在 {meta['low']} 至 "
                            f"{meta['high']} {meta['unit']}之间 / out of range")
    return value if whole else float(value)


def described(values: object) -> list[tuple[str, str, str]]:
    """(key, Chinese label, value with unit) of every field of a settings section, for display."""
    return [(f.name, f.metadata["label"], f"{getattr(values, f.name)} {f.metadata['unit']}".strip())
            for f in dataclasses.fields(values)]  # type: ignore[arg-type]
