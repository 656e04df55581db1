-- candidate_record: the rows the probabilistic layer links — rows about a person (not the register's
-- own) that no certain link settled: no number, a number that fails its check and no slip undoes,
-- or a well-formed number no register person holds (then also a household head's) — and an evenly
-- spread sample of about 5,000 settled rows (is_training): known matches, whose numbers are hidden,
-- that seed the model.
with stride as (
    select greatest(1, count(*) // 5000) as every from link.identity_row
)

select
    ids.source,
    ids.source_row,
    ids.role,
    ids.source_rank,
    settled.person_id,
    settled.person_id is not null as is_training,
    case when ids.id_number_status in ('valid', 'upgraded') and settled.person_id is null then ids.id_number end as id_number,
    ids.id_number_status,
    ids.id_number_raw,
    ids.name,
    ids.sex,
    ids.birth_date,
    ids.township,
    ids.village,
    ids.age_at_death,
    ids.death_date,
    ids.address,
    head.household_no as head_household_no,
    ids.record_signature
from link.identity_row as ids
left join link.settled_row as settled
    on ids.source = settled.source
    and ids.source_row = settled.source_row
    and ids.role = settled.role
left join link.candidate_person as head
    on ids.head_id_number = head.id_number
cross join stride
where ids.source <> 'household_register'
    and ids.name is not null
    and (
        (ids.role = 'subject' and (settled.person_id is null or (ids.source_row * 7 + ids.source_rank) % stride.every = 0))
        or (ids.role = 'head' and settled.person_id is null and ids.id_number is not null)
    )
