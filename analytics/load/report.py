"""What a load did, per table, for people: the CLI prints it, the Data page shows it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TableReport:
    table: str
    label: str
    file_sha256: str
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates_removed: int = 0
    rejected: int = 0  # a load is refused whole, so a report exists only with 0 here
    flagged: int = 0  # rows kept but written to dq_findings (sessions outside their pair's dates)
    dropped_columns: list[str] = field(default_factory=list)


@dataclass
class LoadReport:
    load_id: int | None
    tables: list[TableReport]
    changed: bool
    already_loaded_on: str | None
    notes: list[str]
    dry_run: bool
    profile: str | None = None  # the mapping profile the files were read with (load.mapping)
    profile_sha256: str | None = None

    def text(self) -> str:
        lines: list[str] = []
        if self.dry_run:
            lines.append("Dry run: the files are valid; nothing was written. Loading them would:")
        elif not self.changed:
            if self.already_loaded_on:
                lines.append(f"already loaded on {self.already_loaded_on}: nothing changed")
            else:
                lines.append("nothing changed: every row was already in the store")
        else:
            lines.append(f"Load {self.load_id}: done.")
        width = max((len(t.label) for t in self.tables), default=0)
        for t in self.tables:
            parts = [
                f"{t.rows_read:,} rows read",
                f"{t.inserted:,} inserted",
                f"{t.updated:,} updated",
                f"{t.unchanged:,} unchanged",
                f"{t.rejected:,} rejected",
            ]
            if t.duplicates_removed:
                parts.append(f"{t.duplicates_removed:,} exact duplicate rows removed")
            if t.flagged:
                parts.append(f"{t.flagged:,} flagged")
            lines.append(f"  {t.label.ljust(width)}  -> {t.table}: " + ", ".join(parts))
            if t.dropped_columns:
                lines.append(
                    f"  {' ' * width}     dropped columns (never stored): {', '.join(t.dropped_columns)}"
                )
        if self.profile:
            lines.append(f"  mapping profile: {self.profile} (sha256 {(self.profile_sha256 or '')[:12]})")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)
