"""Outcomes analytics for peer recovery mentoring programs (no Streamlit here).

Data flows one way: files -> load -> tables -> SQL views -> metric functions -> chart
builders -> pages. See docs/architecture.md.
"""

__version__ = "0.1.0"
