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
),

-- the few (record, person) pairs a resolved number may have given more than one scored pair;
-- every other scored pair is its (record, person)'s only one and passes as it is
merged as (
    select distinct record_key, person_id
    from mapped
    where compared_person_id <> person_id
),

single as (
    select mapped.*
    from mapped
    anti join merged
        on mapped.record_key = merged.record_key and mapped.person_id = merged.person_id
),

strongest as (
    select
        mapped.record_key,
        mapped.person_id,
        arg_max(mapped.compared_person_id, (mapped.match_weight, mapped.compared_person_id)) as compared_person_id,
        max(mapped.match_weight) as match_weight,
        arg_max(mapped.probability, (mapped.match_weight, mapped.compared_person_id)) as probability
    from mapped
    semi join merged
        on mapped.record_key = merged.record_key and mapped.person_id = merged.person_id
    group by mapped.record_key, mapped.person_id
)

select record_key, person_id, compared_person_id, match_weight, probability from single
union all
select record_key, person_id, compared_person_id, match_weight, probability from strongest
order by record_key, person_id
