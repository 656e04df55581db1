-- resolved_pair: the scored pairs as the decision reads them. A number no register person holds
-- that the evidence linked to a register person (link.number_resolution) is that person, so a row
-- without a number does not split its belief between the two; where both are candidates the
-- stronger pair counts (compared_person_id names the pair whose comparisons it was).
with mapped as (
    select
        scored.record_key,
        coalesce(resolved.person_id, scored.person_id) as person_id,
        scored.person_id as compared_person_id,
        scored.match_weight,
        scored.probability
    from link.scored_pair as scored
    left join link.outside_person as outside
        on scored.person_id = outside.person_id
    left join link.number_resolution as resolved
        on outside.id_number = resolved.id_number
)

select
    record_key,
    person_id,
    arg_max(compared_person_id, (match_weight, compared_person_id)) as compared_person_id,
    max(match_weight) as match_weight,
    arg_max(probability, (match_weight, compared_person_id)) as probability
from mapped
group by record_key, person_id
order by record_key, person_id
