"""The repository's copies of the golden reference and the spec equal the shared originals.

Runs only where ../shared exists beside the repository (the workspace); a clone elsewhere tests
against its copies alone.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import GOLDEN, SHARED, SPEC

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="no shared reference beside the repository")

PAIRS = (("golden", GOLDEN), ("spec", SPEC))


def _files(root: Path) -> dict[str, bytes]:
    return {str(f.relative_to(root)): f.read_bytes() for f in sorted(root.rglob("*")) if f.is_file()}


@pytest.mark.parametrize(("shared_name", "copy"), PAIRS, ids=[p[0] for p in PAIRS])
def test_copy_equals_shared_original(shared_name: str, copy: Path) -> None:
    original = _files(SHARED / shared_name)
    copied = _files(copy)
    assert sorted(copied) == sorted(original), "files differ: refresh tests/data (see tests/data/README.md)"
    changed = [name for name in original if copied[name] != original[name]]
    assert not changed, f"copies differ from the shared {shared_name}: {changed}"
