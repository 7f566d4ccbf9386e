"""Metric results as a grant writer's screens show them: suppressed exactly as exports are.

Other roles see small numbers on screen, flagged, so staff can act on them. Grant writers work
on what funders will read, so their screens apply the export rules (privacy.py,
privacy.frames.FRAME_SPECS): a suppressed count or rate becomes NaN in a frame (the pages and
charts show "–" or "<11") and None in the summary document. A metric without rules here is
refused rather than shown unsuppressed.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from analytics import privacy
from analytics.privacy import frames

# engagement_totals has no export of its own. Contact hours and sessions per pair-month go with
# the attended count (hours / a usual session length, or the rate x pair-days, would give a
# hidden count back); pair-days describe the pairs in scope, which on a suppressed screen are
# always at least k (ui.setup refuses smaller selections).
ENGAGEMENT_TOTALS = frames.make_spec(
    title="Engagement totals",
    count_cols=("attended", "no_show", "cancelled", "pairs_with_first_session"),
    derived={
        "attendance_rate": ("attended", "no_show"),
        "contact_hours": "attended",
        "sessions_per_pair_month": "attended",
        "median_days_to_first_session": "pairs_with_first_session",
    },
    labels=("pair_days",),
)


def suppressed_for_screen(name: str, value: Any, k: int) -> Any:
    """`value`, the result of the metric `name`, with every cell an export would hide hidden."""
    if name == "headline":
        return privacy.suppress_summary(value, k=k)
    if not isinstance(value, pd.DataFrame):
        raise TypeError(f"no screen suppression for metric {name!r}")
    if name == "engagement_totals":
        return frames.chart_frame(value, ENGAGEMENT_TOTALS, k)[0]
    if name not in frames.FRAME_SPECS:
        raise KeyError(f"no suppression rules for metric {name!r}: it is not shown with suppression on")
    return frames.chart_frame(value, name, k)[0]
