-- grain: one row per status and modality (null when not recorded) the sessions hold, numbered from 0 (kind); inputs: sessions; rebuilt by every write
-- mart_sessions keeps each session's kind beside its calendar month, so the session cells
-- (engagement_session_cells.sql) are counted by a month and a small integer instead of a date
-- truncated row by row and two texts, and named again from here. The codebooks allow 18 kinds
-- (3 statuses times 5 modalities or none); more than a utinyint holds would be refused here.
create or replace table mart_session_kinds as
select (row_number() over (order by status, modality nulls last) - 1)::utinyint as kind, status, modality
from (select distinct status, modality from sessions)
order by kind
