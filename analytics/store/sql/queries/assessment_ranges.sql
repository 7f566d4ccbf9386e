-- grain: one row per instrument with assessments in the store: its lowest and highest stored score and how many assessments
select instrument, min(score), max(score), count(*) from assessments group by instrument order by instrument
