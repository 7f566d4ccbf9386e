-- grain: the temp table raw_<table>: one row per data row of a workbook sheet (registered as a frame), its sheet row number in _row, the kept columns as cleaned text. Slots: raw, the table made; sel, the cleaned columns; v, the registered frame
create temp table {raw} as select _row, {sel} from {v}
