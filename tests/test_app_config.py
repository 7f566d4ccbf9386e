"""The server settings the app relies on (.streamlit/config.toml), read as Streamlit reads them."""

from __future__ import annotations

import tomllib
from pathlib import Path

CONFIG = Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml"


def _config() -> dict:
    return tomllib.loads(CONFIG.read_text(encoding="utf-8"))


def test_tables_have_no_builtin_download_or_copy():
    # st.dataframe's own CSV button would hand out unsuppressed numbers with no audit row.
    assert _config()["client"]["disableDataExport"] is True


def test_upload_form_is_protected_against_cross_site_requests():
    assert _config()["server"]["enableXsrfProtection"] is True


def test_speed_settings_measured_in_the_page_benchmark():
    cfg = _config()
    assert cfg["runner"]["postScriptGC"] is False  # 0.2-0.3 s per rerun otherwise
    assert cfg["server"]["fileWatcherType"] == "none"
    assert cfg["runner"]["magicEnabled"] is False


def test_streamlit_accepts_every_setting():
    # A misspelt option is ignored by Streamlit with only a log line: check each one exists.
    from streamlit import config

    for section, options in _config().items():
        for name in options:
            assert f"{section}.{name}" in config._config_options_template, f"{section}.{name}"


def test_the_sign_in_client_imports():
    # st.login's routes import Authlib's Starlette client, which needs httpx: without it the
    # Sign in button ends in a server error (requirements.txt pins both).
    import importlib

    importlib.import_module("authlib.integrations.starlette_client")
