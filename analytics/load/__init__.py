"""The load: CSV/.xlsx exports -> validated, pseudonymized rows upserted into the store.

    report = load_paths([Path("exports/")], key=..., today=...)
    print(report.text())

Modules: sources (which files feed which table), sniff (file type, encoding), workbook (.xlsx),
readers (staging tables), columns (header mapping), validate (the rules, in SQL), upsert
(writing, findings, audit), report, pipeline (the order of it all), limits; mapping (profiles
for exports in another system's shape, applied as contract-shaped copies) and suggest (a draft
profile from an export's headers).

Failures raise LoadError (bad input: one line naming file, row and column, never a value),
pseudonym.MissingKey, store.StoreBusy or store.StoreError; the store is unchanged then.
"""

from analytics.load.errors import LoadError
from analytics.load.pipeline import load_paths, load_sources
from analytics.load.report import LoadReport, TableReport
from analytics.load.sources import Source, discover, sources_for_file

__all__ = [
    "LoadError",
    "LoadReport",
    "Source",
    "TableReport",
    "discover",
    "load_paths",
    "load_sources",
    "sources_for_file",
]
