-- grain: one row: the latest session date, the earliest and the latest match date in the store (before filters), then the latest date of each other dated table (an as-of after all of them is refused)
select (select max(session_date) from sessions), (select min(matched_on) from pairs),
    (select max(matched_on) from pairs),
    (select max(greatest(matched_on, coalesce(closed_on, matched_on))) from pairs),
    (select max(greatest(enrolled_on, coalesce(exited_on, enrolled_on))) from participants),
    (select max(greatest(set_on, coalesce(achieved_on, set_on))) from goals),
    (select max(administered_on) from assessments)
