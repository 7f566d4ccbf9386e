-- grain: one row per pair, with its participant's site, funding stream and demographics and its mentor's supervisor; inputs: pairs, participants, mentors
create or replace temp view pair_facts as
with

pairs_src as (select * from pairs),
participants_src as (select * from participants),
mentors_src as (select * from mentors),

final as (
    select
        pr.pair_id,
        pr.mentor_id,
        pr.participant_id,
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
