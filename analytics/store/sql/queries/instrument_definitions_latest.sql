-- grain: one row per instrument of the latest load's registry, in its order: the definition that load used
select code, name, min_score, max_score, higher_is_better, reliability, mcid, threshold, construct, items, source, origin from instrument_definitions where load_id = (select max(load_id) from instrument_definitions) order by position
