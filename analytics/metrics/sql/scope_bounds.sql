-- grain: one row: the latest session date, the earliest and the latest match date in the store (before filters)
select (select max(session_date) from sessions), (select min(matched_on) from pairs),
    (select max(matched_on) from pairs)
