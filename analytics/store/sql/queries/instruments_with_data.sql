-- grain: one row per instrument with at least one assessment in the store
select distinct instrument from assessments
