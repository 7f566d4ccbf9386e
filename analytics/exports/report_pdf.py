"""The grant report as PDF (reportlab platypus): US letter, embedded TrueType fonts (so the text
can be searched and copied, and the minus sign and "÷" render), banded tables whose header
repeats across pages, charts with numbered captions, and "Page n of N" in the footer."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import Image, KeepTogether, PageBreak, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import Paragraph as RLParagraph
from reportlab.platypus import Table as RLTable

from analytics.exports.report import Figure, Paragraph, Report, Table

# Streams are written binary (zlib only), not also ASCII85-encoded, reportlab's default for 7-bit
# safe files: the charts are most of the file, and ASCII85 made it a quarter larger and took most
# of its writing time (reportlab encodes it in pure Python without its optional C accelerator).
# This process writes no other PDF, so reportlab's global setting is set once here.
rl_config.useA85 = 0

INK = colors.HexColor("#222222")
MUTED = colors.HexColor("#5F5F5F")
ACCENT = colors.HexColor("#1F4E79")
WARN = colors.HexColor("#9A3B00")
WARN_FILL = colors.HexColor("#FFF4E5")
BAND = colors.HexColor("#F3F6FA")
RULE = colors.HexColor("#C8D1DC")

MARGIN = 0.9 * inch
PAGE_W, PAGE_H = LETTER
TEXT_W = PAGE_W - 2 * MARGIN

# Families tried in order: Liberation Sans (Arial's metrics, as in the charts), DejaVu, then the
# Vera fonts reportlab ships, so a PDF can always be made.
_SYSTEM_FONTS = Path("/usr/share/fonts/truetype")
_FAMILIES = (
    ("liberation/LiberationSans-Regular.ttf", "liberation/LiberationSans-Bold.ttf",
     "liberation/LiberationSans-Italic.ttf", "liberation/LiberationMono-Regular.ttf"),
    ("dejavu/DejaVuSans.ttf", "dejavu/DejaVuSans-Bold.ttf", "dejavu/DejaVuSans-Oblique.ttf",
     "dejavu/DejaVuSansMono.ttf"),
)


@lru_cache(maxsize=1)
def _fonts() -> tuple[str, str, str, str]:
    """Register the report fonts once; returns (regular, bold, italic, mono) names."""
    names = ("Report", "Report-Bold", "Report-Italic", "Report-Mono")
    for family in _FAMILIES:
        paths = [_SYSTEM_FONTS / p for p in family]
        if all(p.exists() for p in paths):
            break
    else:
        import reportlab

        bundled = Path(reportlab.__file__).parent / "fonts"
        paths = [bundled / f for f in ("Vera.ttf", "VeraBd.ttf", "VeraIt.ttf", "Vera.ttf")]
    for name, path in zip(names, paths, strict=True):
        pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily("Report", normal=names[0], bold=names[1], italic=names[2], boldItalic=names[1])
    return names


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold, italic, mono = _fonts()
    base = ParagraphStyle("body", fontName=regular, fontSize=10, leading=14, textColor=INK, spaceAfter=6)
    return {
        "body": base,
        "lead": ParagraphStyle("lead", parent=base, fontSize=11, leading=15.5, spaceAfter=8),
        "note": ParagraphStyle("note", parent=base, fontSize=8.5, leading=11, textColor=MUTED),
        "warning": ParagraphStyle("warning", parent=base, fontName=bold, textColor=WARN, backColor=WARN_FILL,
                                  borderPadding=(4, 6, 4, 6), spaceBefore=4, spaceAfter=10),
        "title": ParagraphStyle("title", parent=base, fontName=bold, fontSize=21, leading=25, textColor=ACCENT,
                                spaceAfter=10),
        "h1": ParagraphStyle("h1", parent=base, fontName=bold, fontSize=14, leading=18, textColor=ACCENT,
                             spaceBefore=12, spaceAfter=6, keepWithNext=1),
        "caption": ParagraphStyle("caption", parent=base, fontSize=8.5, leading=11, textColor=MUTED, spaceAfter=12),
        "table_caption": ParagraphStyle("table_caption", parent=base, fontName=bold, fontSize=9.5, leading=12,
                                        spaceBefore=4, spaceAfter=4),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9, leading=11.5, spaceAfter=0),
        "cell_right": ParagraphStyle("cell_right", parent=base, fontSize=9, leading=11.5, spaceAfter=0,
                                     alignment=TA_RIGHT),
        "cell_head": ParagraphStyle("cell_head", parent=base, fontName=bold, fontSize=9, leading=11.5,
                                    spaceAfter=0, textColor=colors.white),
        "cell_mono": ParagraphStyle("cell_mono", parent=base, fontName=mono, fontSize=7.5, leading=10, spaceAfter=0),
        "fact_label": ParagraphStyle("fact_label", parent=base, fontName=bold, textColor=MUTED, spaceAfter=0),
        "fact": ParagraphStyle("fact", parent=base, spaceAfter=0),
    }


def _p(text: str, style: ParagraphStyle) -> RLParagraph:
    # reportlab reads markup in paragraph text; report text holds data (site names), so escape it.
    return RLParagraph(escape(text), style)


def write_pdf(report: Report) -> bytes:
    st = _styles()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=LETTER, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=MARGIN,
        title=report.title, subject=report.footer, author="peer-outcomes", creator="peer-outcomes",
        keywords=f"data hash {report.data_hash}",
    )
    story: list = [_p(report.title, st["title"]), _facts(report, st), Spacer(1, 14)]
    for section in report.sections:
        if section.appendix:
            story.append(PageBreak())
        story.append(_p(("Appendix: " if section.appendix else "") + section.heading, st["h1"]))
        for block in section.blocks:
            if isinstance(block, Paragraph):
                story.append(_p(block.text, st.get(block.kind, st["body"])))
            elif isinstance(block, Table):
                story.extend(_table(block, st))
            elif isinstance(block, Figure):
                story.append(_figure(block, st))
    footer = report.footer
    doc.build(story, canvasmaker=lambda *a, **kw: _NumberedCanvas(*a, footer=footer, header=report.title, **kw))
    return buf.getvalue()


def _facts(report: Report, st) -> RLTable:
    rows = [[_p(label, st["fact_label"]), _p(value, st["fact"])] for label, value in report.facts]
    t = RLTable(rows, colWidths=[TEXT_W * 0.24, TEXT_W * 0.76], hAlign="LEFT")
    t.setStyle(TableStyle([
        ("LINEABOVE", (0, 0), (-1, 0), 1.5, ACCENT),
        ("LINEBELOW", (0, -1), (-1, -1), 0.5, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
    ]))
    return t


def _table(block: Table, st) -> list:
    head = [_p(h, st["cell_head"]) for h in block.header]
    body = []
    for row in block.rows:
        cells = []
        for j, (text, align) in enumerate(zip(row, block.align, strict=True)):
            style = st["cell_mono"] if block.mono and j > 0 else st["cell_right" if align == "right" else "cell"]
            cells.append(_p(text, style) if j else RLParagraph(f"<b>{escape(text)}</b>", style))
        body.append(cells)
    t = RLTable([head, *body], colWidths=[TEXT_W * w for w in block.widths], repeatRows=1, hAlign="CENTER")
    style = [
        ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ("LEFTPADDING", (0, 0), (-1, -1), 5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 5),
    ]
    style += [("BACKGROUND", (0, i), (-1, i), BAND) for i in range(2, len(body) + 1, 2)]
    t.setStyle(TableStyle(style))
    out = [_p(block.caption, st["table_caption"]), t]
    out.append(_p(block.note, st["caption"]) if block.note else Spacer(1, 10))
    if len(block.rows) <= 8:
        # a short table moves whole to the next page rather than leave its note behind
        return [KeepTogether(out)]
    return out  # a long one splits across pages; its header row repeats


def _figure(block: Figure, st):
    caption = RLParagraph(f"<b>Figure {block.number}. {escape(block.title)}.</b> {escape(block.caption)}", st["caption"])
    if block.png:
        height = TEXT_W * block.height_px / block.width_px
        img = Image(io.BytesIO(block.png), width=TEXT_W, height=height)
        return KeepTogether([Spacer(1, 4), img, Spacer(1, 4), caption])
    return KeepTogether([_p(f"[{block.missing}]", st["note"]), caption])


class _NumberedCanvas(rl_canvas.Canvas):
    """Defers each page until the end so the footer can say "Page n of N"."""

    def __init__(self, *args, footer: str = "", header: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []
        self._footer = footer
        self._header = header

    def showPage(self):  # noqa: N802 - reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._decorate(total)
            super().showPage()
        super().save()

    def _decorate(self, total: int) -> None:
        regular = _fonts()[0]
        self.saveState()
        self.setFont(regular, 7.5)
        self.setFillColor(MUTED)
        self.setStrokeColor(RULE)
        self.setLineWidth(0.5)
        if self._pageNumber > 1:
            self.drawString(MARGIN, PAGE_H - MARGIN + 16, self._header)
            self.line(MARGIN, PAGE_H - MARGIN + 12, PAGE_W - MARGIN, PAGE_H - MARGIN + 12)
        self.line(MARGIN, MARGIN - 14, PAGE_W - MARGIN, MARGIN - 14)
        self.drawString(MARGIN, MARGIN - 26, self._footer)
        self.drawRightString(PAGE_W - MARGIN, MARGIN - 26, f"Page {self._pageNumber} of {total}")
        self.restoreState()
