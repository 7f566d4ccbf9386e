-- grain: one row per pair, with integer keys and its participant's site, funding stream, demographics and its mentor's supervisor; inputs: pairs, mart_participants, mentors; rebuilt by every write
create or replace table mart_pairs as
with

pairs_src as (select * from pairs),
participants_src as (select * from mart_participants),
mentors_src as (select mentor_id, supervisor from mentors),

final as (
    select
        row_number() over (order by pr.pair_id)::integer as pair_key,
        pt.participant_key,
        pr.pair_id,
        pr.mentor_id,
        pr.matched_on,
        pr.closed_on,
        pr.close_reason,
        pt.enrolled_on,
        pt.site,
        pt.funding_stream,
        pt.age_band,
        pt.gender,
        pt.race_ethnicity,
        m.supervisor,
        strftime(pr.matched_on, '%Y') || 'Q' || quarter(pr.matched_on) as match_quarter
    from pairs_src as pr
    inner join participants_src as pt on pt.participant_id = pr.participant_id
    left join mentors_src as m on m.mentor_id = pr.mentor_id
)

select * from final
