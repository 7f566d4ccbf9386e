"""Where the server listens: this machine only without sign-in (Streamlit's own default is
every interface). The rule is analytics.domain.access.listen_problem; ui.serve refuses before starting,
and the app refuses on every page when started some other way (`streamlit run`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from _sign_in import AUTH
from hypothesis import given
from hypothesis import strategies as st

from analytics.domain import access as core
from ui import serve

ROOT = Path(__file__).resolve().parent.parent


def test_the_shipped_settings_listen_on_loopback_only():
    # .streamlit/config.toml as Streamlit reads it: without it Streamlit binds every interface.
    assert serve.listen_address([]) == "127.0.0.1"
    assert core.is_loopback(serve.listen_address([]))


@pytest.mark.parametrize("address", ["127.0.0.1", "127.5.6.7", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_addresses(address):
    assert core.is_loopback(address)
    assert core.listen_problem(address, sign_in=False) is None


@pytest.mark.parametrize("address", [None, "", "0.0.0.0", "::", "192.168.1.20", "10.0.0.5", "fe80::1",
                                     "outcomes.example.org", "localhost.example.org", "::ffff:10.0.0.1"])
def test_other_addresses_need_sign_in(address):
    assert not core.is_loopback(address)
    problem = core.listen_problem(address, sign_in=False)
    assert problem and "sign-in" in problem and "127.0.0.1" in problem
    assert core.listen_problem(address, sign_in=True) is None


@given(st.ip_addresses())
def test_any_ip_address_is_loopback_exactly_when_the_standard_library_says_so(ip):
    assert core.is_loopback(str(ip)) == ip.is_loopback
    assert (core.listen_problem(str(ip), sign_in=False) is None) == ip.is_loopback


def test_serve_reads_the_address_from_the_command_line_and_the_environment(monkeypatch):
    assert serve.listen_address(["--server.address", "0.0.0.0"]) == "0.0.0.0"
    assert serve.listen_address(["--server.address=10.1.2.3", "--server.port", "8600"]) == "10.1.2.3"
    monkeypatch.setenv("STREAMLIT_SERVER_ADDRESS", "0.0.0.0")
    assert serve.listen_address([]) == "0.0.0.0"


def test_serve_allows_a_network_address_only_with_sign_in(tmp_path, monkeypatch):
    monkeypatch.delenv("STREAMLIT_SERVER_ADDRESS", raising=False)
    none = tmp_path / "none.toml"
    with_auth = tmp_path / "secrets.toml"
    with_auth.write_text("[auth]\n" + "".join(f'{k} = "{v}"\n' for k, v in AUTH.items()))
    no_auth = tmp_path / "plain.toml"
    no_auth.write_text('OUTCOMES_PSEUDONYM_KEY = "x"\n')
    for secrets in (none, no_auth):
        assert serve.refusal(["--server.address", "0.0.0.0", "--secrets.files", str(secrets)])
        assert serve.refusal(["--secrets.files", str(secrets)]) is None
    assert serve.refusal(["--server.address", "0.0.0.0", "--secrets.files", str(with_auth)]) is None


def test_serve_refuses_to_start_on_every_interface_without_sign_in(tmp_path):
    none = tmp_path / "none.toml"
    done = subprocess.run(
        [sys.executable, "-m", "ui.serve", "--no-warm", "--server.address", "0.0.0.0",
         "--secrets.files", str(none), "--server.headless", "true"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert "Refusing to start" in done.stderr and "sign-in" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_app_refuses_on_every_page_when_serving_the_network_without_sign_in(tiny_store, monkeypatch,
                                                                                tmp_path):
    # `streamlit run dashboard.py --server.address 0.0.0.0` does not pass through ui.serve.
    import streamlit
    from test_auth_pages import app, shown, shows_no_data

    monkeypatch.setenv("OUTCOMES_DB", str(tiny_store))
    monkeypatch.setenv(core.ROLES_ENV, str(tmp_path / "no-roles.toml"))
    real = streamlit.get_option
    monkeypatch.setattr(streamlit, "get_option",
                        lambda name: "0.0.0.0" if name == "server.address" else real(name))
    for at in (app(secrets={}), app(None, "data", deep_link=True, secrets={})):
        assert any("server.address" in shown(e) and "sign-in" in shown(e) for e in at.error)
        shows_no_data(at)
    monkeypatch.setattr(streamlit, "get_option", real)
    assert not app(secrets={}).error  # on loopback, the local mode opens
