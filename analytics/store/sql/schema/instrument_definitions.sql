-- grain: one row per load and instrument: the definitions each load used (schema version 2; analytics.store.instruments)
create table if not exists instrument_definitions (
    load_id integer not null, position integer not null, code varchar not null,
    name varchar not null, min_score double not null, max_score double not null,
    higher_is_better boolean not null, reliability double not null, mcid double,
    threshold double, construct varchar, items varchar, source varchar, origin varchar)
