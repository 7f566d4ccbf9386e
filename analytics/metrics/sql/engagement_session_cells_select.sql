-- grain: one row per group, calendar month, status and modality (engagement_session_cells.sql), kept by engagement.session_cells to be queried again
select * from session_cells
