"""The shape of the house, checked: pages reach data through ui.scoped alone, every import points down
the floors, and nothing below ui/ and the pages reaches Streamlit, even indirectly.

A page that imported a metrics or data_access function taking a connection (or ui.runtime, or
SQLAlchemy) could read data without the viewer's scope; these tests fail when one does.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

PAGES_DIR = REPO_ROOT / "pages"
PAGE_FILES = sorted(p for p in PAGES_DIR.glob("*.py") if p.name != "__init__.py")
FORBIDDEN_MODULES = ("sqlalchemy", "ui.runtime", "duckdb", "psycopg")
DATA_PARAMETERS = {"conn", "engine", "bind", "connection"}
BELOW_PAGES = ("data_access", "metrics")
# The floors of the house: a package imports only from floors below its own (and from itself).
FLOORS = {"data_access": 1, "metrics": 2, "presentation": 3, "reports": 4, "ui": 4, "benchmarks": 4}
STREAMLIT_FREE = ("data_access", "metrics", "presentation", "reports")


def imports_of(path: Path) -> list[tuple[str, str | None]]:
    """(module, name) for every import in a file; name None for `import module`."""
    out: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            out += [(node.module, alias.name) for alias in node.names]
    return out


def reads_data(obj: object) -> bool:
    """A function (or class) whose first parameter is a connection or engine: it reads the database."""
    target = obj.__init__ if inspect.isclass(obj) else obj
    if not callable(target):
        return False
    try:
        parameters = list(inspect.signature(target).parameters)
    except (TypeError, ValueError):
        return False
    parameters = [p for p in parameters if p != "self"]
    return bool(parameters) and parameters[0] in DATA_PARAMETERS


def test_there_are_pages() -> None:
    assert len(PAGE_FILES) >= 9


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.stem)
def test_page_is_a_function_and_hands_over_when_run_by_itself(path: Path) -> None:
    """A page defines render(view, data) and draws nothing when imported; run by itself (Streamlit's
    pages-folder mode, see pages/__init__.py) it ends by handing over to app.py."""
    *body, last = ast.parse(path.read_text(encoding="utf-8")).body
    renders = [node for node in body if isinstance(node, ast.FunctionDef) and node.name == "render"]
    assert [[a.arg for a in node.args.args] for node in renders] == [["view", "data"]]
    at_import = [node for node in body if not isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    drawing = [ast.unparse(node) for node in at_import
               if any(isinstance(n, ast.Name) and n.id == "st" for n in ast.walk(node))]
    assert not drawing, f"{path.name} calls Streamlit at import: {drawing}"
    assert ast.unparse(last) == "if __name__ == '__main__':\n    hand_over()"


def test_app_registers_every_page() -> None:
    """Every file of pages/ is a page app.py imports (any other would only be run by the pages-folder mode)."""
    imported = {name for module, name in imports_of(REPO_ROOT / "app.py") if module == "pages"}
    assert imported == {path.stem for path in PAGE_FILES}


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.stem)
def test_page_reads_data_only_through_ui_scoped(path: Path) -> None:
    problems = []
    for module, name in imports_of(path):
        full = f"{module}.{name}" if name else module
        if any(full == m or full.startswith(m + ".") or module == m for m in FORBIDDEN_MODULES):
            problems.append(f"imports {full}")
            continue
        if module.split(".")[0] not in BELOW_PAGES:
            continue
        if name is None:
            problems.append(f"imports the module {module} (import names, so that they can be checked)")
            continue
        obj = getattr(importlib.import_module(module), name, None)
        if obj is None:  # a submodule
            problems.append(f"imports the module {full}")
        elif reads_data(obj):
            problems.append(f"imports {full}, which reads the database without the viewer's scope")
    assert not problems, f"{path.name}: " + "; ".join(problems)


def test_the_check_catches_a_data_reading_import() -> None:
    from metrics.caselists import overdue_cases
    from metrics.request import TableRequest
    from metrics.table import region_table

    assert reads_data(region_table) and reads_data(overdue_cases)
    assert not reads_data(TableRequest)


@pytest.mark.parametrize("package", STREAMLIT_FREE)
def test_nothing_below_the_pages_imports_streamlit(package: str) -> None:
    offenders = [f"{path.relative_to(REPO_ROOT)}: {module}"
                 for path in sorted((REPO_ROOT / package).rglob("*.py"))
                 for module, _ in imports_of(path) if module.split(".")[0] == "streamlit"]
    assert not offenders, offenders


def test_test_script_checks_packages_without_a_pipe_into_grep() -> None:
    """Under `set -o pipefail`, `fc-list | grep -q` exits 141 when grep closes the pipe early."""
    script = (REPO_ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")
    assert "set -euo pipefail" in script
    assert "| grep -q" not in script and "|grep -q" not in script


def project_imports(path: Path) -> set[str]:
    """The top-level project packages a file imports (relative imports resolved against its package)."""
    package = path.relative_to(REPO_ROOT).parts[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            out.add(package)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            out |= {alias.name.split(".")[0] for alias in node.names}
    return out & (FLOORS.keys() | {"app", "pages"})


@pytest.mark.parametrize("package", sorted(FLOORS))
def test_imports_point_down_the_floors(package: str) -> None:
    offenders = [f"{path.relative_to(REPO_ROOT)} imports {target}"
                 for path in sorted((REPO_ROOT / package).rglob("*.py"))
                 for target in project_imports(path)
                 if target != package and FLOORS.get(target, 99) >= FLOORS[package]]
    assert not offenders, offenders


# The floors inside data_access: a sub-package imports only from floors below its own (and from itself);
# records and imports share a floor and do not import each other.
DATA_FLOORS = {"reference": 1, "store": 2, "identity": 3, "imports": 4, "records": 4, "supervision": 5, "demo": 6,
               "cli": 7, "__main__": 8}
DATA_ACCESS = REPO_ROOT / "data_access"


def data_access_part(path: Path) -> str:
    """The sub-package (or top module) of data_access a file belongs to."""
    parts = path.relative_to(DATA_ACCESS).parts
    return parts[0] if len(parts) > 1 else Path(parts[0]).stem


def data_access_targets(path: Path) -> set[str]:
    """The parts of data_access a file imports (relative imports resolved against its own package)."""
    own = ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts[:-1])
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = own.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            names = [module] if node.module else [f"{module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        out |= {name.split(".")[1] for name in names if name.startswith("data_access.")}
    return out


def test_data_access_shows_its_parts() -> None:
    """No more than cli, __main__ and __init__ at the top; every part is a known floor."""
    top = sorted(p.name for p in DATA_ACCESS.glob("*.py"))
    assert top == ["__init__.py", "__main__.py", "cli.py"]
    packages = sorted(p.parent.name for p in DATA_ACCESS.glob("*/__init__.py"))
    assert packages == sorted(name for name in DATA_FLOORS if name not in ("cli", "__main__"))


@pytest.mark.parametrize("part", sorted(n for n in DATA_FLOORS if n not in ("cli", "__main__")))
def test_each_data_access_part_names_its_floor(part: str) -> None:
    """Its docstring says which floor it is and what it owns; the package docstring lists it the same way."""
    doc = ast.get_docstring(ast.parse((DATA_ACCESS / part / "__init__.py").read_text(encoding="utf-8"))) or ""
    assert doc.startswith(f"Floor {DATA_FLOORS[part]} — {part}:"), doc[:60]
    top = ast.get_docstring(ast.parse((DATA_ACCESS / "__init__.py").read_text(encoding="utf-8"))) or ""
    assert f"{DATA_FLOORS[part]} " in top and f" {part} — " in f" {top}".replace("\n", " ")


@pytest.mark.parametrize("part", sorted(DATA_FLOORS))
def test_data_access_imports_point_down_its_floors(part: str) -> None:
    files = sorted((DATA_ACCESS / part).rglob("*.py")) if (DATA_ACCESS / part).is_dir() else [DATA_ACCESS / f"{part}.py"]
    offenders = [f"{path.relative_to(REPO_ROOT)} imports data_access.{target}"
                 for path in files for target in data_access_targets(path)
                 if target != part and DATA_FLOORS.get(target, 99) >= DATA_FLOORS[part]]
    assert not offenders, offenders


def test_the_data_access_floor_check_catches_an_upward_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "data_access" / "store"
    fake.mkdir(parents=True)
    (fake / "x.py").write_text("from data_access.supervision import ledger\nfrom ..identity.auth import Identity\n"
                               "from . import bulk\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "REPO_ROOT", tmp_path)
    assert data_access_targets(fake / "x.py") == {"supervision", "identity", "store"}


def test_no_module_below_the_pages_reaches_ui_or_streamlit() -> None:
    """Import every module of the Streamlit-free packages in a fresh interpreter: neither streamlit nor
    ui/ may end up loaded, by any path."""
    modules = sorted(".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)
                     for package in STREAMLIT_FREE for path in (REPO_ROOT / package).rglob("*.py")
                     if path.stem != "__main__")
    probe = ("import importlib, sys\n"
             f"for name in {modules!r}: importlib.import_module(name)\n"
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'streamlit', 'ui', 'pages'}))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(modules) > 40
    assert done.stdout.strip() == "[]"


def test_test_script_runs_the_static_checks_before_pytest() -> None:
    """ruff and mypy (settings in pyproject.toml, --strict flags on data_access and metrics) gate the suite."""
    script = (REPO_ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")
    ruff, mypy, pytest_ = script.index("-m ruff check"), script.index("-m mypy"), script.index("-m pytest")
    assert ruff < pytest_ and mypy < pytest_
    config = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'module = ["data_access.*", "metrics.*"]' in config and "disallow_untyped_defs = true" in config


UI_SCRIPTS = [REPO_ROOT / "app.py", REPO_ROOT / "server.py", *PAGES_DIR.glob("*.py"), *(REPO_ROOT / "ui").glob("*.py")]


def drawn_by_magic(path: Path) -> list[int]:
    """Lines of bare expressions Streamlit's "magic" would draw on the page (anything but a call, an
    await, a yield or a docstring standing alone as a statement)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        for statement in getattr(node, "body", []) if isinstance(getattr(node, "body", None), list) else []:
            if isinstance(statement, ast.Expr) and not isinstance(statement.value, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom)):
                is_docstring = isinstance(statement.value, ast.Constant) and isinstance(statement.value.value, str)
                if not is_docstring:
                    lines.append(statement.lineno)
    return lines


@pytest.mark.parametrize("path", UI_SCRIPTS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_no_bare_expression_reaches_the_page(path: Path) -> None:
    """A tuple of two calls in app.py once printed both results on every page: magic is off in the
    config, and no script holds such a statement anyway."""
    assert drawn_by_magic(path) == []


def test_magic_is_off() -> None:
    import tomllib

    config = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["runner"]["magicEnabled"] is False


def test_the_magic_check_catches_a_tuple_statement(tmp_path: Path) -> None:
    script = tmp_path / "x.py"
    script.write_text('"""doc"""\nimport streamlit as st\nst.write(1)\ntry:\n    f(), g()\nexcept E:\n    pass\n', encoding="utf-8")
    assert drawn_by_magic(script) == [5]
