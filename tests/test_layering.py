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
    r"\b(select\b[\s\S]+\bfrom|insert\s+(or\s+replace\s+)?into|update\s+[\w{}]+\s+set|delete\s+from"
    r"|create\s+(or\s+replace\s+)?(temp\s+)?(table|view)|drop\s+(table|view)|alter\s+table"
    r"|copy\s+\w+\s+(from|to))\b|\battach\s+['?$]|^\s*describe\s+\w+\s*$",
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
    assert SQL.search("insert or replace into schema_meta values (?, ?)")
    assert SQL.search("update {raw} set {c} = m.dst from text_map m")
    assert SQL.search("alter table load_audit add column x varchar")
    assert SQL.search("attach ? as live (read_only)")
    assert SQL.search("describe pair_facts")
    assert not SQL.search("Select a dimension to compare by")
    assert not SQL.search("Pairs selected from the sidebar")  # 'selected' is not 'select'
    assert not SQL.search("describe the change in words")


def packages_loaded(code: str, packages: set[str]) -> list[str]:
    """Which of `packages` a fresh interpreter has imported after running `code`."""
    import subprocess
    import sys

    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({sorted(packages)!r}))))\n"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_the_command_line_loads_neither_streamlit_nor_plotly():
    # The CLI runs on servers without a display and in scripts where start-up time counts: its
    # commands and the summary they print must not pull in the UI or the chart library.
    code = (
        "from analytics.cli import COMMANDS, build_parser\n"
        "import importlib\n"
        "for name in COMMANDS.values(): importlib.import_module(name)\n"
        "build_parser()\n"
        "import analytics.summary\n"
    )
    assert packages_loaded(code, {"streamlit", "plotly"}) == []


def test_the_report_command_reaches_its_browser_start_before_pandas():
    # `report` starts the chart browser (seconds) before the heavy imports, so the two overlap:
    # parsing and checking its arguments and importing the browser module load no pandas,
    # plotly or kaleido.
    code = (
        "from analytics.cli import build_parser\n"
        "args = build_parser('report').parse_args(['report', '--out', 'r.pdf', '--followup-rule', 'gpra'])\n"
        "from analytics.cli.options import followup_settings\n"
        "followup_settings(args)\n"
        "import analytics.exports.browser\n"
    )
    assert packages_loaded(code, {"pandas", "plotly", "kaleido", "numpy"}) == []


SQL_FILES = sorted([*(ROOT / "analytics" / "metrics" / "sql").glob("*.sql"),
                    *(ROOT / "analytics" / "store" / "sql").rglob("*.sql"),
                    *(ROOT / "analytics" / "load" / "sql").glob("*.sql")])

# The statements that stay in Python, written where they run: one-word transaction and storage
# statements, the catalog switch after an attach, one connection setting, and the no-op read
# that closes an open result before DuckDB's register(). Every other statement is a .sql file
# (metrics.queries.query, store.sqlfiles.store_query/store_sql, load.sqltext.statement); its
# {slots}, where it has any, are filled by load.sqltext.render with the contract's fixed names only.
STATEMENTS_IN_PYTHON = {
    "begin transaction", "commit", "checkpoint", "use live", "use store", "select 1",
    "set preserve_insertion_order = true",
}
_RUNS_SQL = {"execute", "executemany", "sql"}


def literal_statements(source: str) -> list[str]:
    """SQL text written inline where it runs: the first argument of execute/executemany/sql
    calls when it is a string literal, an f-string or an operation on them, and a template given
    to render() that is a whole statement (render's other templates are the per-column
    expressions the load composes: "{c} is null", a date parse, a codebook lookup)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        first = node.args[0]
        if not isinstance(first, ast.Constant | ast.JoinedStr | ast.BinOp):
            continue
        text = str(first.value) if isinstance(first, ast.Constant) else ast.unparse(first)
        if name in _RUNS_SQL or (name == "render" and SQL.search(text)):
            found.append(text)
    return found


@pytest.mark.parametrize("path", CORE_FILES, ids=_rel)
def test_analytics_python_holds_no_sql_text(path):
    # Every query is a file: analytics/metrics/sql, analytics/store/sql, analytics/load/sql.
    hits = [s[:60] for s in string_literals(path) if SQL.search(s)]
    assert not hits, f"{_rel(path)} holds SQL text {hits}: put it in a .sql file beside the others"


@pytest.mark.parametrize("path", CORE_FILES, ids=_rel)
def test_statements_run_from_sql_files(path):
    inline = [s for s in literal_statements(path.read_text()) if s not in STATEMENTS_IN_PYTHON]
    assert not inline, f"{_rel(path)} runs SQL written inline {inline}: put it in a .sql file"


def test_the_inline_statement_check_detects():
    # The check above is only as good as this function.
    assert literal_statements('con.execute("select count(*) from pairs")') == ["select count(*) from pairs"]
    assert literal_statements('con.executemany("insert into t values (?)", rows)') == ["insert into t values (?)"]
    assert literal_statements('con.execute(f"drop table {name}")') == ["f'drop table {name}'"]
    assert literal_statements('render("create temp table {t} as select * from {n}", t=x, n=y)')
    assert not literal_statements('render("{c} is null", c=name)')  # an expression, not a statement
    assert literal_statements('con.execute("use store")') == ["use store"]  # found, then allowed
    assert not literal_statements('con.execute(store_query("meta_get"), [key])')
    assert not literal_statements('con.execute(render(statement("count_rows"), t=name))')


def test_every_statement_left_in_python_is_still_used():
    # The allow-list holds nothing that no longer runs (so it cannot grow stale and hide one).
    used = {s for path in CORE_FILES for s in literal_statements(path.read_text())}
    assert STATEMENTS_IN_PYTHON <= used, sorted(STATEMENTS_IN_PYTHON - used)


@pytest.mark.parametrize("path", SQL_FILES, ids=_rel)
def test_every_sql_file_states_its_grain_first(path):
    first = path.read_text().splitlines()[0]
    assert first.startswith("-- grain:") and len(first) > len("-- grain: x"), f"{_rel(path)}: {first!r}"
