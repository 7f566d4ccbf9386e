-- grain: one row per distinct site in participants (at $sites only, when given: a list, or null for every site)
select distinct site from participants
where site is not null and ($sites is null or list_contains($sites, site))
order by 1
