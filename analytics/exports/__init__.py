"""Exports for funders: chart images, suppressed CSV/XLSX tables and the grant report.

Everything that leaves the store here goes through ``analytics.privacy`` (small-cell
suppression, the below-k refusal, formula-injection escaping); see each module's docstring.

Import the writer you need (``analytics.exports.images``, ``.tables``, ``.report``,
``.report_docx``, ``.report_pdf``): this package imports none of them, so screens that write
CSV/XLSX do not pay for python-docx, reportlab and kaleido until a report or an image is asked
for. Suppression rules and frames are ``analytics.privacy``'s, imported from there.
"""
