"""The layers stay apart: pages and ui/ never touch the database driver or write SQL, and the
analytics core never imports Streamlit or ui/ (docs/architecture.md). Checked on the source."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UI_FILES = sorted([ROOT / "dashboard.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")])
CORE_FILES = sorted((ROOT / "analytics").rglob("*.py"))

# SQL in a string literal: a statement keyword followed by what it needs to be a statement.
SQL = re.compile(
    r"\b(select\b[\s\S]+\bfrom|insert\s+into|update\s+\w+\s+set|delete\s+from|create\s+(or\s+replace\s+)?"
    r"(temp\s+)?(table|view)|drop\s+(table|view)|attach\s+'|copy\s+\w+\s+(from|to))\b",
    re.IGNORECASE,
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def string_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_files_are_found():
    assert len(UI_FILES) >= 10 and len(CORE_FILES) >= 10


@pytest.mark.parametrize("path", UI_FILES, ids=_rel)
def test_ui_never_imports_the_database_driver(path):
    bad = {m for m in imported_modules(path) if m == "duckdb" or m.startswith("duckdb.")}
    assert not bad, f"{_rel(path)} imports {sorted(bad)}: call analytics functions instead"


@pytest.mark.parametrize("path", UI_FILES, ids=_rel)
def test_ui_holds_no_sql(path):
    hits = [s[:60] for s in string_literals(path) if SQL.search(s)]
    assert not hits, f"{_rel(path)} holds SQL text {hits}: SQL belongs in analytics/"
    assert ".execute(" not in path.read_text(), f"{_rel(path)} executes statements itself"


@pytest.mark.parametrize("path", CORE_FILES, ids=_rel)
def test_core_never_imports_streamlit_or_ui(path):
    bad = {m for m in imported_modules(path) if m.split(".")[0] in {"streamlit", "ui"}}
    assert not bad, f"{_rel(path)} imports {sorted(bad)}: analytics must run without the UI"


def test_the_sql_detector_detects():
    # The checks above are only as good as this pattern.
    assert SQL.search("select count(*) from sessions")
    assert SQL.search("INSERT INTO pairs VALUES (?)")
    assert SQL.search("create or replace temp view x as select 1")
    assert not SQL.search("Select a dimension to compare by")
    assert not SQL.search("Pairs selected from the sidebar")  # 'selected' is not 'select'


def test_the_command_line_loads_neither_streamlit_nor_plotly():
    # The CLI runs on servers without a display and in scripts where start-up time counts: its
    # commands and the summary they print must not pull in the UI or the chart library.
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from analytics.cli import COMMANDS, build_parser\n"
        "import importlib\n"
        "for name in COMMANDS.values(): importlib.import_module(name)\n"
        "build_parser()\n"
        "import analytics.summary\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'streamlit', 'plotly'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


METRIC_FILES = sorted([*(ROOT / "analytics" / "metrics").glob("*.py"),
                       ROOT / "analytics" / "exports" / "fingerprint.py", ROOT / "analytics" / "cli" / "relink.py"])
SQL_FILES = sorted([*(ROOT / "analytics" / "metrics" / "sql").glob("*.sql"),
                    *(ROOT / "analytics" / "store" / "sql").rglob("*.sql")])


@pytest.mark.parametrize("path", METRIC_FILES, ids=_rel)
def test_metric_functions_hold_no_sql_text(path):
    # Every metric query is a file in analytics/metrics/sql/ (metrics.queries.query).
    hits = [s[:60] for s in string_literals(path) if SQL.search(s)]
    assert not hits, f"{_rel(path)} holds SQL text {hits}: put it in analytics/metrics/sql/"


@pytest.mark.parametrize("path", SQL_FILES, ids=_rel)
def test_every_sql_file_states_its_grain_first(path):
    first = path.read_text().splitlines()[0]
    assert first.startswith("-- grain:") and len(first) > len("-- grain: x"), f"{_rel(path)}: {first!r}"
