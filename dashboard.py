"""Peer mentoring outcomes dashboard: run with `make run` (`python -m ui.serve`, which warms the
server first) or plainly with `python -m streamlit run dashboard.py`.

The entry file only routes; each page in pages/ sets itself up (ui.setup.page_setup), so a deep
link to a page gets the same filters, banners and store handling.
"""

from ui.setup import run_app

run_app()
