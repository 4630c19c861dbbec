"""Every metric is documented: Chinese label and definition in the registry, and in step with metrics.md;
its rule (or quantity) declares what it reads."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from data_access.store.schema import cases
from metrics.registry import ALL_IDS, COMMON_NOTES, METRICS, METRICS_BY_ID, MetricKind
from metrics.rules import Bounds, CaseContext, Deadline, Quantity, Rule
from tests.conftest import SPEC

METRICS_MD = SPEC / "metrics.md"
CJK = re.compile(r"[\u4e00-\u9fff]")
REGION_COLUMNS = {"code", "name", "level"}


def spec_table() -> dict[str, str]:
    """id -> 中文 of the table under '## Metric ids' in metrics.md (region columns left out)."""
    text = METRICS_MD.read_text(encoding="utf-8")
    section = text.split("## Metric ids", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    out: dict[str, str] = {}
    for line in rows[2:]:  # header and separator rows first
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        ids = {i.strip() for i in cells[0].split(",")}
        if ids <= REGION_COLUMNS:
            continue
        assert len(ids) == 1, f"one metric per row expected: {line}"
        (metric_id,) = ids
        assert metric_id not in out, f"{metric_id} appears twice in metrics.md"
        out[metric_id] = cells[1]
    return out


@pytest.mark.parametrize("m", METRICS, ids=lambda m: m.id)
def test_metric_has_chinese_label_and_definition(m) -> None:
    assert m.label.strip() and CJK.search(m.label), f"{m.id}: label {m.label!r}"
    assert m.definition.strip() and CJK.search(m.definition), f"{m.id}: definition {m.definition!r}"
    assert len(m.definition) > len(m.label)


def test_metric_ids_and_labels_are_unique() -> None:
    ids = [m.id for m in METRICS]
    assert len(ids) == len(set(ids))
    labels = [m.label for m in METRICS]
    assert len(labels) == len(set(labels))
    assert set(METRICS_BY_ID) == set(ids) == set(ALL_IDS)


@pytest.mark.parametrize("m", METRICS, ids=lambda m: m.id)
def test_metric_formula_refers_to_what_exists(m) -> None:
    match m.kind:
        case MetricKind.COUNT:
            assert isinstance(m.rule, Rule), f"{m.id}: rule {m.rule!r}"
            assert m.numerator is None and m.denominator is None
            if m.parent is not None:
                assert METRICS_BY_ID[m.parent].kind is MetricKind.COUNT, f"{m.id}: parent {m.parent!r}"
        case MetricKind.RATE:
            for ref in (m.numerator, m.denominator):
                assert ref in METRICS_BY_ID, f"{m.id}: {ref!r} is not a registered metric"
                assert METRICS_BY_ID[ref].kind is MetricKind.COUNT
            assert m.numerator != m.denominator
        case MetricKind.AVERAGE:
            assert isinstance(m.quantity, Quantity), f"{m.id}: quantity {m.quantity!r}"
            assert m.denominator in METRICS_BY_ID and METRICS_BY_ID[m.denominator].kind is MetricKind.COUNT
        case _:
            pytest.fail(f"{m.id}: unknown kind {m.kind}")


def test_count_parents_have_no_cycles() -> None:
    for m in METRICS:
        seen, current = set(), m
        while current.parent is not None:
            assert current.id not in seen, f"cycle through {m.id}"
            seen.add(current.id)
            current = METRICS_BY_ID[current.parent]


def test_rule_names_are_unique() -> None:
    """A rule's name labels its SQL column: two different rules may not share one."""
    rules = {m.rule for m in METRICS if m.rule is not None}
    assert len({r.name for r in rules}) == len(rules)


UNDECLARED = "undeclared_deadline"


def declared_only(term: Rule | Quantity) -> CaseContext:
    """A context offering only the case columns and the deadline `term` declares (the rest is absent)."""
    only = sa.select(*(cases.c[c] for c in term.columns)).subquery("declared")
    wanted = term.deadline if isinstance(term, Rule) else None

    def deadline(d: Deadline) -> sa.ColumnElement:
        return sa.literal_column(f"{d.value}_deadline" if d is wanted else UNDECLARED, sa.Date)

    bounds = Bounds(*(sa.literal_column(n, sa.Date) for n in ("p_start", "p_end", "p_as_of", "p_window_end")))
    due = sa.literal_column("due", sa.Date)
    return CaseContext(bounds, only.c, due, deadline(Deadline.NOTICE), deadline(Deadline.FEEDBACK))


@pytest.mark.parametrize("m", [m for m in METRICS if m.rule or m.quantity], ids=lambda m: m.id)
def test_rule_reads_only_what_it_declares(m) -> None:
    """The compiler selects into its base only the declared columns and calendar joins: a rule reading
    more would fail to compile there (a column) or silently read NULL (a deadline on a database without
    stored deadlines)."""
    term = m.rule or m.quantity
    sql = str(term.sql(declared_only(term)).compile())  # AttributeError for an undeclared column
    assert UNDECLARED not in sql, f"{m.id}: reads a working-day deadline it does not declare"
    if isinstance(term, Rule) and term.deadline is not None:
        assert f"{term.deadline.value}_deadline" in sql, f"{m.id}: declares a deadline it does not read"


def test_every_documented_metric_is_registered_and_vice_versa() -> None:
    documented = spec_table()
    assert documented, "no metric table found in metrics.md"
    assert set(documented) - set(METRICS_BY_ID) == set(), "in metrics.md but not in the registry"
    assert set(METRICS_BY_ID) - set(documented) == set(), "in the registry but not in metrics.md"


def test_registry_labels_match_metrics_md() -> None:
    documented = spec_table()
    mismatched = {i: (METRICS_BY_ID[i].label, zh) for i, zh in documented.items() if METRICS_BY_ID[i].label != zh}
    assert not mismatched, f"registry label vs metrics.md: {mismatched}"


def test_common_notes_are_chinese() -> None:
    assert COMMON_NOTES and all(CJK.search(note) for note in COMMON_NOTES)
