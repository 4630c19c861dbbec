"""Local settings of the metric definitions; the defaults are those of metrics.md."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """Settings that change numbers; every cache key includes them."""

    default_due_days: int = 60  # due_date when empty: received_date + this many calendar days
    min_volume: int = 10  # priority: below this first_due or accepted, a county is insufficient
    z_priority: float = 1.96  # both z at or above: 重点督导 (95% funnel limit)
    z_watch: float = 3.09  # either z at or above: 关注 (99.8% funnel limit)


DEFAULT_SETTINGS = Settings()
