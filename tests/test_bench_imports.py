"""The benchmarks are not run as tests, but every name they import from the project must exist,
so a module moved between packages cannot silently break `bench/`."""

import ast
import importlib
from pathlib import Path

import pytest

BENCH = sorted((Path(__file__).resolve().parent.parent / "bench").glob("*.py"))


def _trees(source: str):
    """The module, and any script it runs in a child process (a string constant that parses as
    Python and imports the project)."""
    tree = ast.parse(source)
    yield tree
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "analytics" in node.value:
            try:
                yield ast.parse(node.value)
            except SyntaxError:
                continue


def _project_imports(path: Path):
    for node in (n for tree in _trees(path.read_text(encoding="utf-8")) for n in ast.walk(tree)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "analytics":
            for alias in node.names:
                yield node.module, alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "analytics":
                    yield alias.name, None


@pytest.mark.parametrize("path", BENCH, ids=[p.name for p in BENCH])
def test_every_project_name_a_benchmark_imports_exists(path):
    for module, name in _project_imports(path):
        mod = importlib.import_module(module)
        if name is not None and not hasattr(mod, name):
            importlib.import_module(f"{module}.{name}")  # a submodule, or ModuleNotFoundError


@pytest.mark.parametrize("path", [p for p in BENCH if "argparse" in p.read_text(encoding="utf-8")],
                         ids=lambda p: p.name)
def test_a_benchmark_starts_as_the_readme_runs_it(path, tmp_path):
    """`python bench/<script>.py --help` from outside the project: the script sets its own
    import path before it imports the project (a project import above that line fails here)."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, str(path), "--help"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-400:]
