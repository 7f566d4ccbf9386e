"""One call draws a page chart: ``show(ctx, name, **params)``.

Everything comes from the panel catalogue (``analytics.panels.PANELS``): the chart drawn from
the page's frames, the sentence under it, the data behind it (with its suppressed CSV/XLSX),
and the "Download image" menu, which draws the same chart again from suppressed frames when a
format is clicked. Widget keys are ``{page}__{panel key}[_{code}]``.
"""

from __future__ import annotations

from typing import Any

from analytics.domain.access import Access
from analytics.domain.scope import Scope
from analytics.exports import images
from analytics.panels import PANELS, Panel, ScreenView, export_figure
from ui import data_access, downloads


def screen_view(stamp: data_access.StampKey, scope: Scope, access: Access) -> ScreenView:
    """The frames a user's page is drawn from (cached metric calls within their access)."""
    return ScreenView(
        get=lambda name, other=None, settings=(): data_access.metric(name, stamp, other or scope, access, settings),
        scope=scope,
        k=access.k,
        suppressed=access.suppress_on_screen,
    )


def page_view(ctx) -> ScreenView:
    """The frames of the page ``ctx`` as its user sees them."""
    suppressed = bool(getattr(getattr(ctx, "access", None), "suppress_on_screen", False))
    return ScreenView(get=ctx.metric, scope=ctx.scope, k=ctx.k, suppressed=suppressed)


def screen_figure(panel: Panel, view: ScreenView, params: dict) -> tuple[Any, tuple]:
    """The on-screen figure (cached on its inputs, ``data_access.figure``) and the builder's
    positional arguments."""
    args, kwargs = panel.call(view, params, screen=True)
    return data_access.figure(panel.chart, *args, **kwargs), args


def show(ctx, name: str, **params: Any) -> None:
    """Draw the panel ``name`` on the page ``ctx`` (``ui.setup.PageContext``) with its sentence,
    its data and its downloads. ``params``: ``code`` for per-instrument panels, ``by`` to group
    differently from the panel's default."""
    panel = PANELS[name]
    p = panel.params(**params)
    view = page_view(ctx)
    fig, args = screen_figure(panel, view, p)
    if view.hidden:  # a suppressed screen: the title states no total, as an export's would
        fig = images.without_total(fig)
    downloads.chart_with_downloads(
        ctx, fig, panel.say(view, p), panel.data_frame(view, p, args),
        key=panel.widget_key(ctx.page, **params),
        name=panel.file_stem(**params),
        data_name=panel.data_file_stem(**params),
        spec=panel.metric,
        image=lambda: export_figure(name, ctx.metric, ctx.scope, ctx.k, **params),
    )
