"""Default file locations resolve under the project root, wherever their module lives.

Moving the store, audit, pseudonym and access modules into packages once put every default one
folder too deep (under analytics/); these tests pin each default to the project's own folders.
"""

from pathlib import Path

from analytics import store
from analytics.domain import access
from analytics.domain.paths import PROJECT_ROOT
from analytics.store import audit, pseudonym

ROOT = Path(__file__).resolve().parent.parent


def test_the_project_root_is_the_folder_holding_the_entry_file():
    assert PROJECT_ROOT == ROOT
    assert (PROJECT_ROOT / "dashboard.py").is_file()


def test_every_default_location_is_under_the_project_root():
    assert store.DEFAULT_DB == ROOT / "data" / "outcomes.duckdb"
    assert audit.DEFAULT_LOG == ROOT / "data" / "audit.jsonl"
    assert pseudonym.SECRETS_PATH == ROOT / ".streamlit" / "secrets.toml"
    assert access.DEFAULT_ROLES_PATH == ROOT / ".streamlit" / "roles.toml"
