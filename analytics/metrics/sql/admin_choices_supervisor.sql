-- grain: one row per distinct supervisor in mentors (at $sites only, when given: a list, or null for every site)
select distinct supervisor from mentors
where supervisor is not null and ($sites is null or list_contains($sites, site))
order by 1
