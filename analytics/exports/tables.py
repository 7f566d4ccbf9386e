"""Table exports (CSV, XLSX) and the suppressed frames charts are exported from.

Everything here goes through ``analytics.privacy``: counts of 1..k-1 become "<11", rates and
means resting on fewer than k become "n<11" (``suppress_table``), text cells are escaped against
spreadsheet formula injection (``safe_frame``), and a view of fewer than k pairs is refused
(``ExportContext.check_allowed``).

Only aggregate frames are accepted (row-level exports are off): a frame with a
person-, pair- or event-level id column is refused, and every numeric column must be declared
a count, a derived value or a plain label (a month number, a day), so a new count column cannot
slip out unsuppressed.

``FRAME_SPECS`` says, for each metric frame the pages show, which columns are counts and which
values rest on which counts; pages and the report use it rather than repeating the rules.
"""

from __future__ import annotations

import csv
import io
import math
import numbers
from collections.abc import Mapping, Sequence
from datetime import date, datetime

import numpy as np
import pandas as pd

from analytics import privacy
from analytics.domain.numbers import spreadsheet_percent_format
from analytics.exports.context import ExportContext
from analytics.privacy.frames import (
    FrameSpec,
    make_spec,
    spec_for,
    suppress,
)

# ------------------------------------------------------------------------------- writers


def _prepare(
    df: pd.DataFrame, spec: FrameSpec, context: ExportContext, k: int | None
) -> tuple[pd.DataFrame, int]:
    k = context.k if k is None else k
    if k != context.k:
        raise ValueError("k differs from the export context's k")
    context.check_allowed()
    table = suppress(df, spec, k)[0]
    # Counts print as counts: a frame suppressed before (a grant writer's screen) holds them as
    # floats, which a CSV would write as "12.0".
    for col in (c for c in spec.count_cols if c in table.columns):
        table[col] = table[col].map(lambda v: int(v) if isinstance(v, float) and v.is_integer() else v)
    return privacy.safe_frame(table), k


def _plain(value):
    """A cell as a writer wants it: Python numbers, ISO dates, None for missing."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.date() if value == value.normalize() else value.to_pydatetime()
    return value


def _header(spec: FrameSpec, context: ExportContext, title: str | None) -> list[tuple[str, str]]:
    # Filter values are data (site names): escaped like any other text cell.
    return [(label, privacy.safe_cell(value)) for label, value in context.header_lines(title or spec.title)]


def to_csv_bytes(
    df: pd.DataFrame,
    *,
    count_cols: Sequence[str] | None = None,
    derived: Mapping[str, str | Sequence[str]] | None = None,
    context: ExportContext,
    k: int | None = None,
    inputs: Mapping[str, Sequence[str]] | None = None,
    labels: Sequence[str] = (),
    label: str | None = None,
    spec: FrameSpec | str | None = None,
    title: str | None = None,
) -> bytes:
    """A suppressed, injection-safe CSV (UTF-8 with BOM, so Excel reads accents right).

    A short header block (title, filters, period, pairs in scope, as-of, suppression rule),
    a blank line, then the table. Give either ``spec`` (a ``FRAME_SPECS`` name) or
    ``count_cols`` and ``derived``.
    """
    spec = _resolve_spec(spec, count_cols, derived, inputs, labels, label, title, df.columns)
    table, _ = _prepare(df, spec, context, k)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for label_, value in _header(spec, context, title):
        w.writerow([label_, value])
    w.writerow([])
    w.writerow([privacy.safe_cell(str(c)) for c in table.columns])
    for row in table.itertuples(index=False):
        w.writerow(["" if (v := _plain(x)) is None else _csv_value(v) for x in row])
    return buf.getvalue().encode("utf-8-sig")


def _csv_value(v) -> str:
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _resolve_spec(spec, count_cols, derived, inputs, labels, label, title, columns=None) -> FrameSpec:
    if spec is not None:
        return spec_for(spec, columns) if isinstance(spec, str) else spec
    if count_cols is None or derived is None:
        raise ValueError("give spec=, or count_cols= and derived=")
    return make_spec(title=title or "Table", count_cols=count_cols, derived=derived, inputs=inputs,
                     labels=labels, label=label)


_RATE_HINTS = ("rate", "share", "survival", "km_", "retained_90", "lower", "upper")


def _number_format(col: str, values: pd.Series) -> str:
    name = col.lower()
    if any(h in name for h in _RATE_HINTS) and not name.startswith(("ci95", "median")):
        return spreadsheet_percent_format()  # the cell holds the share; Excel shows it as percent() prints
    nums = [v for v in values if isinstance(v, numbers.Real) and not isinstance(v, bool)]
    if nums and all(float(v).is_integer() for v in nums if not math.isnan(float(v))):
        return "#,##0"
    return "#,##0.00"


def to_xlsx_bytes(
    df: pd.DataFrame,
    *,
    count_cols: Sequence[str] | None = None,
    derived: Mapping[str, str | Sequence[str]] | None = None,
    context: ExportContext,
    k: int | None = None,
    inputs: Mapping[str, Sequence[str]] | None = None,
    labels: Sequence[str] = (),
    label: str | None = None,
    spec: FrameSpec | str | None = None,
    title: str | None = None,
) -> bytes:
    """A suppressed, injection-safe XLSX: numbers stay numbers, suppressed cells are text.

    xlsxwriter is told never to turn strings into formulas, numbers or links; text that a
    spreadsheet would run is also prefixed with an apostrophe (``privacy.safe_frame``), so a
    copy pasted elsewhere stays inert.
    """
    import xlsxwriter

    spec = _resolve_spec(spec, count_cols, derived, inputs, labels, label, title, df.columns)
    table, _ = _prepare(df, spec, context, k)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buf,
        {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
         "strings_to_urls": False, "nan_inf_to_errors": False},
    )
    wb.set_properties({"title": title or spec.title, "comments": context.footnote})
    ws = wb.add_worksheet("".join(c for c in (title or spec.title) if c not in "[]:*?/\\")[:31] or "Table")
    f_title = wb.add_format({"bold": True, "font_size": 13})
    f_label = wb.add_format({"bold": True, "font_color": "#444444"})
    f_note = wb.add_format({"font_color": "#444444"})
    f_head = wb.add_format({"bold": True, "bottom": 1, "bg_color": "#EEF3F8", "text_wrap": True, "valign": "bottom"})
    f_text = wb.add_format({})
    f_supp = wb.add_format({"align": "right", "font_color": "#5F5F5F"})
    f_date = wb.add_format({"num_format": "yyyy-mm-dd"})
    num_formats = {c: wb.add_format({"num_format": _number_format(str(c), table[c])}) for c in table.columns}

    header = _header(spec, context, title)
    ws.write_string(0, 0, header[0][1], f_title)
    for r, (label_, value) in enumerate(header[1:], start=1):
        ws.write_string(r, 0, label_, f_label)
        ws.write_string(r, 1, value, f_note)
    top = len(header) + 1
    count_labels = {privacy.suppressed_label(context.k), privacy.derived_label(context.k)}
    widths = [max(10, len(str(c)) + 2) for c in table.columns]
    for c, name in enumerate(table.columns):
        ws.write_string(top, c, str(name), f_head)
    for r, row in enumerate(table.itertuples(index=False), start=top + 1):
        for c, raw in enumerate(row):
            v = _plain(raw)
            if v is None:
                ws.write_blank(r, c, None)
            elif isinstance(v, bool):
                ws.write_boolean(r, c, v)
            elif isinstance(v, numbers.Real):
                ws.write_number(r, c, float(v), num_formats[table.columns[c]])
            elif isinstance(v, datetime | date):
                ws.write_datetime(r, c, datetime(v.year, v.month, v.day) if not isinstance(v, datetime) else v, f_date)
            else:
                text = str(v)
                ws.write_string(r, c, text, f_supp if text in count_labels else f_text)
                widths[c] = max(widths[c], min(40, len(text) + 2))
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    ws.set_column(0, 0, max(widths[0] if widths else 10, 16))
    ws.freeze_panes(top + 1, 0)
    if len(table):
        ws.autofilter(top, 0, top + len(table), max(0, len(table.columns) - 1))
    wb.close()
    return buf.getvalue()


def file_name(name: str, ext: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name).strip("_") or "table"
    return f"{stem[:80]}.{ext}"
