"""The one exception a load raises for bad input, and how its messages are worded."""

from __future__ import annotations


class LoadError(Exception):
    """Bad input: one line naming the file, row and column and what is wrong; never a cell value."""


def where(label: str, row: int | None = None, column: str | None = None) -> str:
    """'sessions.csv row 5, column session_date' (row 1 is the header, as in a spreadsheet)."""
    text = label
    if row is not None:
        text += f" row {row}"
    if column is not None:
        text += f", column {column}" if row is not None else f" column {column}"
    return text


def cell_error(label: str, row: int | None, column: str | None, what: str, more: int = 0) -> LoadError:
    """A failure of one rule; `more` is how many further rows fail the same rule."""
    tail = f" (and {more} more row{'s' if more != 1 else ''})" if more > 0 else ""
    return LoadError(f"{where(label, row, column)}: {what}{tail}")
