-- grain: one row of instrument_definitions per bound row: a load's id, an instrument's position in its registry, and its definition
insert into instrument_definitions (load_id, position, code, name, min_score, max_score, higher_is_better, reliability, mcid, threshold, construct, items, source, origin) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
