"""Download buttons under charts and tables: PNG/SVG/PDF (or HTML) and CSV/XLSX.

Files are made only when a button is clicked (Streamlit runs a callable ``data`` on a thread of
its own), so a page with many charts does not render images on every rerun. Everything goes
through ``analytics.exports``, hence through ``analytics.privacy``: suppressed cells, the
refusal below k pairs, formula-injection escaping, no row-level tables.

Tables are exported from the metric frames as computed, suppressed by their rules in
``privacy.frames.FRAME_SPECS`` when the file is made: ``table_menu`` under a page's table,
``data_download`` inside a chart's "Data behind this chart".

Charts for export are built from suppressed frames: a page chart's image menu draws its panel
from an ``analytics.panels.ExportView`` (``ui.panel.show``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pandas as pd
import streamlit as st

from analytics import privacy
from analytics.exports import images, tables
from analytics.exports.context import ExportContext
from analytics.metrics import followup
from analytics.privacy import frames
from ui import auth, data_access
from ui import components as ui
from ui.components import plain

NOT_IN_ROLE = "Downloads are not part of your role."


def export_context(ctx, scope=None) -> ExportContext | None:
    """The export context of a page's view (``ui.setup.PageContext``), or None without data."""
    scope = scope or ctx.scope
    if scope is None:
        return None
    # The unsuppressed pair count decides (a suppressed screen shows small counts as blank).
    n = data_access.pairs_in_scope(ctx.stamp, scope, getattr(ctx, "access", None))
    return ExportContext.from_scope(scope, n, ctx.k)


def refused_note(context: ExportContext) -> str | None:
    """Why exports of this view are off for this user, or None when they may go ahead."""
    if not auth.can_export():
        return NOT_IN_ROLE
    try:
        context.check_allowed()
    except privacy.ExportRefused as exc:
        return f"Downloads are off for this selection: {exc.reason}."
    return None


def _audited(make: Callable[[], bytes], *, kind: str, name: str, context: ExportContext) -> Callable[[], bytes]:
    """Each download served is written to the audit trail (who, what, filters, a hash of the file)."""
    return auth.audited_export(make, file_kind=kind, name=name, scope=context.scope, k=context.k)


def chart_downloads(build: images.ExportBuild, *, name: str, context: ExportContext, key: str | None = None) -> None:
    """PNG, SVG and PDF buttons for a chart, or standalone HTML with a note when no browser is
    installed. ``build`` draws it from suppressed frames and says what they hid (called on click
    only)."""
    key = key or f"dl__{name}"
    note = refused_note(context)
    if note:
        st.caption(plain(note))
        return
    formats = ("png", "svg", "pdf") if images.images_available() else ("html",)
    row = st.container(horizontal=True, gap="small")
    for fmt in formats:
        row.download_button(
            fmt.upper(),
            data=_audited(_chart_bytes(build, fmt, context), kind=fmt, name=name, context=context),
            file_name=images.file_name(name, fmt),
            mime=images.MIME[fmt],
            key=f"{key}__{fmt}",
            icon=":material/download:",
            on_click="ignore",
        )
    if formats == ("html",):
        st.caption(plain(images.NO_BROWSER_NOTE))


def _chart_bytes(build: images.ExportBuild, fmt: str, context: ExportContext) -> Callable[[], bytes]:
    # If the browser fails after the buttons were drawn, the error says what to install, and
    # the next rerun offers HTML instead (the failure is remembered). A chart drawn from frames
    # with hidden cells states no total in its title (images.build_for_export).
    def make() -> bytes:
        fig, title = images.build_for_export(build)
        return images.export_chart(fig, fmt, context=context, title=title)

    return make


# Metric frames whose table file is not offered, and why.
NOT_AS_TABLE = {
    # Even cut where fewer than k remain at risk (as the image is), one day's number at risk minus
    # the next's is that day's pairs that stopped meeting or were censored: counts of 1-10.
    "retention_curve": "the curve is day by day, and the steps between its numbers at risk give back each "
    "day's small number of pairs that stopped meeting. Download the chart as an image, or retention at "
    "30, 90 and 180 days on the Reports page",
}


def table_rule(k: int) -> str:
    """What a table file does to small numbers and formulas (said beside its buttons)."""
    if k <= 1:
        return "Suppression is off (k = 1): for internal use only. Text a spreadsheet could run is escaped."
    return (f"Counts of 1-{k - 1}, and counts that would give one back, are shown as <{k} and rates"
            f" resting on fewer than {k} as n<{k}; text that a spreadsheet could run as a formula is escaped.")


def table_file(df: pd.DataFrame, *, spec: frames.FrameSpec | str, context: ExportContext, fmt: str,
               title: str | None = None) -> bytes:
    """The file a table's CSV or XLSX button serves: suppressed, formula-safe, numbers numeric."""
    write = tables.to_csv_bytes if fmt == "csv" else tables.to_xlsx_bytes
    return write(df, spec=spec, context=context, title=title)


def table_downloads(
    df: pd.DataFrame,
    *,
    name: str,
    context: ExportContext,
    spec: str | None = None,
    count_cols: Sequence[str] | None = None,
    derived: Mapping[str, str | Sequence[str]] | None = None,
    inputs: Mapping[str, Sequence[str]] | None = None,
    title: str | None = None,
    key: str | None = None,
) -> bool:
    """CSV and XLSX buttons for an aggregate table, suppressed and formula-safe; True when drawn
    (else a caption says why not).

    ``name`` names the files (and the audit record). With ``count_cols``/``derived`` omitted,
    ``spec`` (default ``name``) must be a metric frame with rules in ``privacy.frames.FRAME_SPECS``
    (e.g. "goals_by_domain"), and ``df`` that frame as computed, not a renamed screen table.
    """
    key = key or f"dl__{name}"
    note = refused_note(context)
    if note:
        st.caption(plain(note))
        return False
    if count_cols is None and derived is None:
        if (spec or name) in NOT_AS_TABLE:
            st.caption(plain(f"No table download: {NOT_AS_TABLE[spec or name]}."))
            return False
        rules = frames.spec_for(spec or name, df.columns)
    else:
        rules = frames.make_spec(title=title or name.replace("_", " ").capitalize(), count_cols=count_cols or (),
                                 derived=derived or {}, inputs=inputs)
    try:
        frames.suppress(df, rules, context.k)  # checked now, so a refusal shows here, not as a failed file
    except (privacy.ExportRefused, ValueError) as exc:
        st.caption(plain(f"No download for this table: {exc}"))
        return False
    row = st.container(horizontal=True, gap="small")
    for fmt, mime in (("csv", "text/csv"),
                      ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")):
        row.download_button(
            fmt.upper(),
            data=_audited(lambda fmt=fmt: table_file(df, spec=rules, context=context, fmt=fmt, title=title),
                          kind=fmt, name=name, context=context),
            file_name=tables.file_name(name, fmt), mime=mime, key=f"{key}__{fmt}",
            icon=":material/download:", on_click="ignore",
        )
    return True


# ------------------------------------------------------------------------------- the grant report


@st.cache_data(show_spinner=False, max_entries=8)
def _report_file(stamp, scope_key, k: int, program: str, fmt: str, followup_rule: str = followup.DEFAULT_RULE,
                 followup_target: float = followup.DEFAULT_TARGET) -> bytes:
    # Imported here: python-docx and reportlab are only needed when a report is asked for.
    from analytics.exports.report import build_report
    from analytics.exports.report_docx import write_docx
    from analytics.exports.report_pdf import write_pdf

    scope = data_access.scope_from_key(scope_key)
    with data_access.analysis_cursor(stamp) as cur:
        report = build_report(
            cur, as_of=scope.as_of, start=scope.start, end=scope.end, sites=scope.filters.site,
            funding_streams=scope.filters.funding_stream, k=k, program=program or None,
            followup_rule=followup_rule, followup_target=followup_target,
        )
    return write_docx(report) if fmt == "docx" else write_pdf(report)


def report_downloads(ctx, scope, *, program: str = "", key: str = "reports__report",
                     followup_rule: str = followup.DEFAULT_RULE,
                     followup_target: float = followup.DEFAULT_TARGET) -> None:
    """One button each for the grant report as DOCX and PDF (built on click, then cached).

    ``scope``: period, sites and funding streams of the report (other filters do not apply);
    a selection of fewer than k pairs is refused here, before anything is built.
    ``followup_rule``, ``followup_target``: the follow-up rate's settings in the report.
    """
    context = export_context(ctx, scope)
    note = refused_note(context)
    if note:
        st.warning(plain(note), icon=":material/lock:")
        return
    scope_key = data_access.scope_key(scope)
    stem = f"outcomes-report_{scope.start.isoformat()}_{scope.end.isoformat()}"
    row = st.container(horizontal=True, gap="small")
    for fmt, label, mime in (
        ("docx", "Word report (DOCX)", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("pdf", "PDF report", "application/pdf"),
    ):
        row.download_button(
            label,
            data=_audited(lambda fmt=fmt: _report_file(ctx.stamp, scope_key, ctx.k, program, fmt, followup_rule,
                                                       followup_target), kind=fmt,
                          name="grant_report", context=context),
            file_name=f"{stem}.{fmt}", mime=mime, key=f"{key}__{fmt}", type="primary",
            icon=":material/description:", on_click="ignore",
        )
    rule = (f"Counts of 1-{ctx.k - 1}, and counts that would give one back, print as <{ctx.k}." if ctx.k > 1
            else "Suppression is off (k = 1): for internal use only.")
    st.caption(plain(f"{context.describe()}. The report is built when you click (allow 10-20 seconds the "
                     f"first time). {rule}"))
    if not images.images_available():
        st.caption(plain(f"{images.NO_BROWSER_NOTE} The report will say that its charts are left out."))


def image_menu(ctx, build: images.ExportBuild, *, name: str, key: str) -> None:
    """A "Download image" menu under an on-screen chart. ``build`` draws the chart again from
    suppressed frames (an ``ExportView``), never from the screen's own unsuppressed numbers; it runs
    only when a format is clicked."""
    if not auth.can_export():
        return
    context = export_context(ctx)
    if context is None:
        return
    with st.popover("Download image", icon=":material/download:"):
        chart_downloads(build, name=name, context=context, key=key)


def table_menu(ctx, df: pd.DataFrame, *, name: str, key: str, title: str | None = None,
               spec: str | None = None) -> None:
    """A "Download table" menu under an on-screen table: CSV and XLSX, made when clicked.

    ``df``: the metric frame as computed (the suppression rules ``FRAME_SPECS[spec or name]``
    apply to its columns), never the renamed, formatted table the screen shows."""
    if not auth.can_export():
        return
    context = export_context(ctx)
    if context is None:
        return
    with st.popover("Download table", icon=":material/download:"):
        if table_downloads(df, name=name, spec=spec, context=context, title=title, key=key):
            st.caption(plain(table_rule(context.k)))


def data_download(ctx, df: pd.DataFrame, *, name: str, key: str, spec: str | None = None,
                  title: str | None = None) -> Callable[[], None] | None:
    """A chart's data as CSV and XLSX, for ``ui.chart(..., download=...)``: the buttons are drawn
    inside the "Data behind this chart" expander once it is opened. ``df``: a metric frame, as for
    ``table_menu``. None (no buttons) for roles that cannot export."""
    if not auth.can_export() or ctx.scope is None:
        return None

    def draw() -> None:
        context = export_context(ctx)
        if table_downloads(df, name=name, spec=spec, context=context, title=title, key=key):
            st.caption(plain(table_rule(context.k)))

    return draw


def chart_with_downloads(
    ctx, fig, sentence: str | None, data: pd.DataFrame | None, *, key: str, name: str,
    image: images.ExportBuild, data_name: str | None = None, spec: str | None = None,
) -> None:
    """``ui.chart`` with its downloads: the data behind it as suppressed CSV/XLSX in its expander
    (file ``data_name``, default ``name``; rules ``FRAME_SPECS[spec or data_name]``) and a
    "Download image" menu where ``image`` draws the chart again from suppressed frames, only when
    a format is clicked. Buttons are keyed ``{key}_data_dl`` and ``{key}_dl``."""
    download = None
    if data is not None:
        download = data_download(ctx, data, name=data_name or name, spec=spec, key=f"{key}_data_dl")
    ui.chart(fig, sentence, data, key=key, download=download)
    image_menu(ctx, image, name=name, key=f"{key}_dl")
