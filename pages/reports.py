"""Reports: the grant report (DOCX, PDF) and the export centre (tables and charts to download)."""

import streamlit as st

from analytics.domain.scope import Filters, ScopeError
from analytics.metrics.instruments import from_frame
from analytics.panels import PANELS, export_figure, report_charts
from ui import components as ui
from ui import data_access, downloads
from ui.followup_controls import followup_controls
from ui.setup import page_setup, page_title

ctx = page_setup("reports")
page_title(ctx, "Reports", "Grant report and downloads")
k = ctx.k

st.subheader("Grant report")
st.markdown(
    "Headline outcomes, charts, plain sentences carrying the numbers and a methods appendix, for one "
    "period, funding stream and set of sites. Every number equals the summary command's for the same choice."
)
access = getattr(ctx, "access", None)
choices = data_access.filter_choices(ctx.stamp, access)
with st.container(border=True):
    left, right = st.columns(2)
    limits = {"min_value": ctx.info["earliest_match"], "max_value": ctx.info["latest_session"], "format": "YYYY-MM-DD"}
    start = left.date_input("Period from", value=ctx.scope.start, key="reports__start", **limits)
    end = right.date_input("Period to", value=ctx.scope.end, key="reports__end", **limits)
    funding = st.multiselect("Funding stream", choices.get("funding_stream", []),
                             default=list(ctx.scope.filters.funding_stream), placeholder="All funding streams",
                             key="reports__funding")
    sites = st.multiselect("Sites", choices.get("site", []), default=list(ctx.scope.filters.site),
                           placeholder="All sites", key="reports__sites")
    program = st.text_input("Program name for the title (optional)", max_chars=120, key="reports__program")
    rule, target = followup_controls("reports")  # the follow-up rate in the headline table
    try:
        report_scope = data_access.scope_for(
            ctx.stamp, start, end, Filters.from_mapping({"site": sites, "funding_stream": funding}), access
        )
    except ScopeError as exc:
        st.error(ui.plain(str(exc)), icon=":material/error:")
    else:
        downloads.report_downloads(ctx, report_scope, program=program.strip(), followup_rule=rule,
                                   followup_target=target)

context = downloads.export_context(ctx)
TABLES = (
    ("engagement_by_month", "Sessions and attendance by month"),
    ("retention_summary", "Retention at 30, 90 and 180 days"),
    ("closure_reasons", "Why pairs closed"),
    ("outcome_change", "Intake and follow-up scores (every instrument reported)"),
    ("outcome_trend", "Scores by months since enrollment"),
    ("goals_by_domain", "Goals by recovery domain"),
)


# Every chart the Reports page offers is a panel of the catalogue (analytics.panels).
# Per-instrument charts: one for each instrument reported, with the store's definitions.
INSTRUMENTS = from_frame(ctx.metric("instrument_registry"))
CHARTS = [(name, PANELS[name], params) for name, params in report_charts(INSTRUMENTS)]

st.subheader("Tables and charts")
refused = downloads.refused_note(context)
if refused:
    st.warning(ui.plain(refused), icon=":material/lock:")
    st.stop()
st.caption(ui.plain(f"For the sidebar's selection: {context.describe()}."))
tables_tab, charts_tab = st.tabs(["Tables (CSV, XLSX)", "Charts (images)"])
with tables_tab:
    st.caption(ui.plain(downloads.table_rule(k)))
    for name, title in TABLES:
        st.markdown(f"**{title}**")
        downloads.table_downloads(ctx.metric(name), name=name, context=context, title=title)
with charts_tab:
    st.caption(ui.plain("Each image is titled with the selection, period, n and data date, and footed with the "
                        "small-number rule. Images are made when you click."))
    for panel_name, chart, params in CHARTS:
        stem = chart.file_stem(**params)
        st.markdown(f"**{chart.chart_title(INSTRUMENTS, **params)}**")
        downloads.chart_downloads(
            lambda panel_name=panel_name, params=params: export_figure(panel_name, ctx.metric, ctx.scope, k, **params),
            name=stem, context=context, key=f"reports__{stem}",
        )
