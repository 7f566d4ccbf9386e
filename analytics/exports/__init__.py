"""Exports for funders: chart images, suppressed CSV/XLSX tables and the grant report.

Everything that leaves the store here goes through ``analytics.privacy`` (small-cell
suppression, the below-k refusal, formula-injection escaping); see each module's docstring.

Names are imported on first use: screens import ``exports.tables`` on every page, and should
not pay for python-docx, reportlab and kaleido until a report or an image is asked for.
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {
    "ExportContext": "analytics.exports.context",
    "suppression_rule": "analytics.exports.context",
    "ImageExportUnavailable": "analytics.exports.images",
    "export_chart": "analytics.exports.images",
    "images_available": "analytics.exports.images",
    "Report": "analytics.exports.report",
    "build_report": "analytics.exports.report",
    "write_docx": "analytics.exports.report_docx",
    "write_pdf": "analytics.exports.report_pdf",
    "FRAME_SPECS": "analytics.privacy.frames",
    "chart_frame": "analytics.privacy.frames",
    "km_chart_frames": "analytics.privacy.frames",
    "to_csv_bytes": "analytics.exports.tables",
    "to_xlsx_bytes": "analytics.exports.tables",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module 'analytics.exports' has no attribute {name!r}")
    return getattr(importlib.import_module(_NAMES[name]), name)
