"""Chart builders: metric DataFrames in, plotly figures out. No Streamlit, no I/O.

Every builder takes the frame a metric function returns (columns as documented there, with
`grp` the group value, "all" when ungrouped) and returns a `plotly.graph_objects.Figure` laid
out by `house_layout`: white background, Okabe-Ito colours, a title carrying n, an optional
subtitle and a footnote line. Exports re-call `house_layout` on the same figure to put
filters, period and as-of in the title and the suppression rule in the footnote.

Small numbers: a group, bar or cell whose n is below the privacy threshold k (default 11, the
CMS small-cell norm) is drawn faded (its colour at reduced opacity, so groups stay apart),
hatched, dashed or as an open marker, and labelled "n<11" (counts "<11"). Its exact n and
its value labels are not printed (the mark stays, so the shape of the data is visible, and
hover text names the flag). A value missing because the frame was suppressed upstream (NaN)
is treated the same way. k = 1 turns flagging off for internal analysis.

An empty or missing frame gives a figure with a "No data for this selection" note instead of
raising, so a page never breaks on a narrow filter.
"""

from __future__ import annotations

from analytics.present.charts.compare import forest_plot, km_by_group_chart
from analytics.present.charts.engagement import engagement_monthly_chart
from analytics.present.charts.followup import followup_rate_chart
from analytics.present.charts.goals import goals_chart
from analytics.present.charts.instruments import dose_change_chart, threshold_chart
from analytics.present.charts.mentors import mentor_chart
from analytics.present.charts.outcomes import (
    change_distribution_chart,
    intake_followup_chart,
    reliable_change_chart,
    trend_chart,
)
from analytics.present.charts.quality import quality_chart
from analytics.present.charts.retention import closure_reasons_chart, cohort_heatmap, km_chart

__all__ = [
    "change_distribution_chart",
    "closure_reasons_chart",
    "cohort_heatmap",
    "dose_change_chart",
    "engagement_monthly_chart",
    "followup_rate_chart",
    "forest_plot",
    "goals_chart",
    "intake_followup_chart",
    "km_by_group_chart",
    "km_chart",
    "mentor_chart",
    "quality_chart",
    "reliable_change_chart",
    "threshold_chart",
    "trend_chart",
]
