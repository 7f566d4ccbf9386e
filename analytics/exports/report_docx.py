"""The grant report as a Word document (python-docx): styles Word users can restyle, real tables
(grant writers paste them into funder templates), charts as pictures with numbered captions, and
page numbers in the footer."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Pt, RGBColor

from analytics.exports.report import Figure, Paragraph, Report, Table

FONT = "Calibri"
MONO = "Consolas"
INK = RGBColor(0x22, 0x22, 0x22)
MUTED = RGBColor(0x5F, 0x5F, 0x5F)
ACCENT = RGBColor(0x1F, 0x4E, 0x79)
WARN = RGBColor(0x9A, 0x3B, 0x00)
HEADER_FILL = "1F4E79"
BAND_FILL = "F3F6FA"
RULE = "C8D1DC"
TEXT_WIDTH_IN = 6.5
# Word rejects properties out of the schema's order, so new ones go before these (w:pPr).
_PPR_AFTER_BORDER = (
    "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct", "w:topLinePunct",
    "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind",
    "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
    "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange",
)


def write_docx(report: Report) -> bytes:
    doc = Document()
    _page(doc, report)
    _styles(doc)
    _title_block(doc, report)
    for section in report.sections:
        if section.appendix:
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        doc.add_heading(("Appendix: " if section.appendix else "") + section.heading, level=1)
        for block in section.blocks:
            if isinstance(block, Paragraph):
                _paragraph(doc, block)
            elif isinstance(block, Table):
                _table(doc, block)
            elif isinstance(block, Figure):
                _figure(doc, block)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _page(doc, report: Report) -> None:
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Inches(8.5), Inches(11)  # US letter: federal grant forms
    sec.left_margin = sec.right_margin = Inches(1)
    sec.top_margin = sec.bottom_margin = Inches(0.9)
    props = doc.core_properties
    props.title = report.title
    props.subject = report.footer
    props.comments = f"Data hash {report.data_hash}"

    head = sec.header.paragraphs[0]
    head.text = report.title
    _font(head.runs[0], size=8, color=MUTED)
    foot = sec.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(foot.add_run(report.footer + "  ·  Page "), size=8, color=MUTED)
    _field(foot, "PAGE")
    _font(foot.add_run(" of "), size=8, color=MUTED)
    _field(foot, "NUMPAGES")


def _field(paragraph, code: str) -> None:
    """A Word field (PAGE, NUMPAGES) Word fills in when it lays out the pages."""
    run = paragraph.add_run()
    _font(run, size=8, color=MUTED)
    for kind, text in (("begin", None), (None, code), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        elif text == code:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {code} "
        else:
            el = OxmlElement("w:t")
            el.text = text
        run._r.append(el)


def _font(run, *, size: float | None = None, bold: bool | None = None, italic: bool | None = None,
          color: RGBColor | None = None, name: str | None = None) -> None:
    if size is not None:
        run.font.size = Pt(size)
    if bold is not None:
        run.font.bold = bold
    if italic is not None:
        run.font.italic = italic
    if color is not None:
        run.font.color.rgb = color
    if name is not None:
        run.font.name = name
        run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def _styles(doc) -> None:
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(10.5)
    normal.font.color.rgb = INK
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.15
    for level, size in ((1, 15), (2, 12)):
        style = doc.styles[f"Heading {level}"]
        style.font.name = FONT
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.color.rgb = ACCENT
        style.paragraph_format.space_before = Pt(14 if level == 1 else 10)
        style.paragraph_format.space_after = Pt(6)
        style.paragraph_format.keep_with_next = True
        rfonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            rfonts.set(qn(attr), FONT)
    caption = doc.styles["Caption"]
    caption.font.name = FONT
    caption.font.size = Pt(9)
    caption.font.italic = False
    caption.font.color.rgb = MUTED


def _title_block(doc, report: Report) -> None:
    title = doc.add_paragraph()
    _font(title.add_run(report.title), size=22, bold=True, color=ACCENT)
    title.paragraph_format.space_after = Pt(4)
    rule = doc.add_paragraph()
    _bottom_border(rule, HEADER_FILL, 12)
    table = doc.add_table(rows=0, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    for label, value in report.facts:
        cells = table.add_row().cells
        _cell_text(cells[0], label, bold=True, color=MUTED)
        _cell_text(cells[1], value)
    _widths(table, (0.26, 0.74))
    doc.add_paragraph()


def _bottom_border(paragraph, colour: str, size: int) -> None:
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", str(size)), ("w:space", "1"), ("w:color", colour)):
        bottom.set(qn(key), value)
    borders.append(bottom)
    ppr.insert_element_before(borders, *_PPR_AFTER_BORDER)


def _paragraph(doc, block: Paragraph) -> None:
    p = doc.add_paragraph()
    run = p.add_run(block.text)
    if block.kind == "lead":
        _font(run, size=11.5)
    elif block.kind == "note":
        _font(run, size=9, color=MUTED)
    elif block.kind == "warning":
        _font(run, bold=True, color=WARN)
        _shade_paragraph(p, "FFF4E5")


def _shade_paragraph(p, fill: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    p._p.get_or_add_pPr().insert_element_before(shd, *_PPR_AFTER_BORDER[1:])


def _shade(cell, fill: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().insert_element_before(
        shd, "w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark", "w:headers",
        "w:cellIns", "w:cellDel", "w:cellMerge", "w:tcPrChange",
    )


def _cell_text(cell, text: str, *, bold: bool = False, color: RGBColor | None = None, size: float = 9.5,
               align: str = "left", mono: bool = False) -> None:
    p = cell.paragraphs[0]
    p.paragraph_format.space_after = Pt(1)
    p.paragraph_format.space_before = Pt(1)
    if align == "right":
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    run = p.add_run(text)
    _font(run, size=size, bold=bold, color=color, name=MONO if mono else None)


def _widths(table, fractions) -> None:
    table.autofit = False
    for row in table.rows:
        for cell, frac in zip(row.cells, fractions, strict=True):
            cell.width = Inches(TEXT_WIDTH_IN * frac)


def _borders(table) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "bottom", "insideH"):
        el = OxmlElement(f"w:{edge}")
        for key, value in (("w:val", "single"), ("w:sz", "4"), ("w:space", "0"), ("w:color", RULE)):
            el.set(qn(key), value)
        borders.append(el)
    tbl_pr.insert_element_before(borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption",
                                 "w:tblDescription", "w:tblPrChange")


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _table(doc, block: Table) -> None:
    cap = doc.add_paragraph(style="Caption")
    _font(cap.add_run(block.caption), bold=True, color=INK, size=9.5)
    cap.paragraph_format.keep_with_next = True
    table = doc.add_table(rows=1, cols=len(block.header))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _borders(table)
    for cell, text, align in zip(table.rows[0].cells, block.header, block.align, strict=True):
        _shade(cell, HEADER_FILL)
        _cell_text(cell, text, bold=True, color=RGBColor(0xFF, 0xFF, 0xFF), align=align)
    _repeat_header(table.rows[0])
    for i, values in enumerate(block.rows):
        cells = table.add_row().cells
        for j, (cell, text, align) in enumerate(zip(cells, values, block.align, strict=True)):
            if i % 2 == 1:
                _shade(cell, BAND_FILL)
            _cell_text(cell, text, bold=(j == 0), align=align, mono=block.mono and j > 0,
                       size=8.5 if block.mono and j > 0 else 9.5)
    _widths(table, block.widths)
    if block.note:
        note = doc.add_paragraph(style="Caption")
        note.add_run(block.note)
    else:
        doc.add_paragraph()


def _figure(doc, block: Figure) -> None:
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.keep_with_next = True
    if block.png:
        p.add_run().add_picture(io.BytesIO(block.png), width=Inches(TEXT_WIDTH_IN))
    else:
        _font(p.add_run(f"[{block.missing}]"), italic=True, color=MUTED)
    cap = doc.add_paragraph(style="Caption")
    _font(cap.add_run(f"Figure {block.number}. {block.title}. "), bold=True, color=INK)
    cap.add_run(block.caption)
    cap.paragraph_format.space_after = Pt(12)
