"""Size limits a load checks before parsing, so a hostile or mistaken file cannot exhaust the
machine. They are stated in messages and in the docs."""

from __future__ import annotations

GIB = 1 << 30
MIB = 1 << 20

MAX_CSV_BYTES = 2 * GIB  # about 25 million session rows
MAX_XLSX_BYTES = 200 * MIB
# An .xlsx is a zip of XML: cap what it may expand to, and how much any member may expand,
# so a zip bomb is refused before a parser sees it.
MAX_XLSX_UNCOMPRESSED = 1 * GIB
MAX_ZIP_RATIO = 200
MAX_ZIP_MEMBERS = 10_000
MAX_COLUMNS = 200
MAX_ROWS = 50_000_000  # per file; counted as the file is read, before any rule runs
MAX_HEADER_BYTES = 1 * MIB
# A worksheet is read into a grid spanning its first to its last filled cell: one cell at
# XFD1048576 would ask for 17 billion. Its extent is read from the XML before the reader runs.
MAX_SHEET_COLUMNS = MAX_COLUMNS
MAX_SHEET_ROWS = 1_048_576  # Excel's own limit
MAX_SHEET_CELLS = 20_000_000  # rows x columns of the filled range
# The database's memory during a load (its default is 80% of the machine's): above it, staging
# tables and large joins spill to a temporary folder beside the store, so a load of 30 million
# sessions stays within a few GB instead of growing with the files.
LOAD_MEMORY = 1536 * MIB


def human(n: int) -> str:
    if n >= GIB and n % GIB == 0:
        return f"{n // GIB} GiB"
    if n >= MIB and n % MIB == 0:
        return f"{n // MIB} MiB"
    return f"{n:,} bytes"
