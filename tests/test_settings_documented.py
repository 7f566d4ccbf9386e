"""Every environment setting the code reads is documented in the README's Configuration table."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _settings_in_code() -> set[str]:
    names: set[str] = set()
    for path in [ROOT / "dashboard.py", *ROOT.glob("analytics/**/*.py"), *ROOT.glob("ui/*.py"), *ROOT.glob("pages/*.py")]:
        names |= set(re.findall(r"OUTCOMES_[A-Z_]+", path.read_text()))
    # test hooks are not settings
    return {n for n in names if "_TEST_" not in n}


def test_every_setting_is_in_the_readme_configuration_table():
    table = README[README.index("## Configuration"):]
    missing = sorted(n for n in _settings_in_code() if f"`{n}`" not in table)
    assert _settings_in_code(), "expected at least OUTCOMES_DB"
    assert not missing, f"settings read by the code but not documented: {missing}"
