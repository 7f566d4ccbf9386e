-- grain: schema version 1, the initial schema: schema_meta (one row per key), the six contract tables (one row per record of the program's exports), load_audit (one row per load), load_audit_tables (one row per load and table) and dq_findings (one row per finding kept at load)
create table if not exists schema_meta (key varchar primary key, value varchar);

create table if not exists participants (
    participant_id varchar not null, site varchar not null, enrolled_on date not null,
    exited_on date, exit_reason varchar, age_band varchar, gender varchar,
    race_ethnicity varchar, funding_stream varchar, referral_source varchar);

create table if not exists mentors (
    mentor_id varchar not null, site varchar not null, supervisor varchar,
    certified_on date);

create table if not exists pairs (
    pair_id varchar not null, mentor_id varchar not null,
    participant_id varchar not null, matched_on date not null, closed_on date,
    close_reason varchar);

create table if not exists sessions (
    session_id varchar not null, pair_id varchar not null, session_date date not null,
    status varchar not null, duration_min double, modality varchar);

create table if not exists goals (
    goal_id varchar not null, pair_id varchar not null, domain varchar not null,
    set_on date not null, target_on date, status varchar not null,
    achieved_on date);

create table if not exists assessments (
    assessment_id varchar not null, participant_id varchar not null,
    instrument varchar not null, administered_on date not null, score double not null);

-- One row per load; per-table counts in load_audit_tables. No cell values, ever.
create table if not exists load_audit (
    load_id integer not null, loaded_at timestamp not null, loaded_by varchar,
    source varchar, outcome varchar not null, note varchar);

create table if not exists load_audit_tables (
    load_id integer not null, table_name varchar not null, file_sha256 varchar,
    rows_read bigint, inserted bigint, updated bigint, unchanged bigint,
    duplicates_removed bigint, rejected bigint, flagged bigint,
    dropped_columns varchar);

-- Findings kept at load time (sessions outside their pair's dates). Findings that depend on
-- the as-of date are computed by views instead.
create table if not exists dq_findings (
    finding varchar not null, table_name varchar not null, record_id varchar not null,
    detail varchar, load_id integer);
