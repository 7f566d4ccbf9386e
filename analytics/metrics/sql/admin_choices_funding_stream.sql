-- grain: one row per distinct funding stream in participants (at $sites only, when given: a list, or null for every site)
select distinct funding_stream from participants
where funding_stream is not null and ($sites is null or list_contains($sites, site))
order by 1
