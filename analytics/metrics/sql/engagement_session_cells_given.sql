-- grain: one row per group, calendar month, status and modality: the rows of engagement_session_cells.sql computed once by engagement.session_cells and registered as cells_given on this cursor, read in its place
session_cells as (
    select * from cells_given
)
