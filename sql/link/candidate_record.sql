-- candidate_record: the rows the probabilistic layer links — rows about a person (not the register's
-- own) that no certain link settled (link.unsettled_row; a household head's only when it carries a
-- well-formed number no register person holds) — and an evenly spread sample of about 5,000 settled
-- rows (is_training): known matches, whose numbers are hidden, that seed the model.
with stride as (
    select greatest(1, count(*) // 5000) as every from link.identity_row
),

rows as (
    select ids.*, cast(null as varchar) as person_id, false as is_training
    from link.unsettled_row as ids
    where ids.role = 'subject' or ids.id_number is not null
    union all
    select ids.*, settled.person_id, true as is_training
    from link.identity_row as ids
    cross join stride
    inner join link.settled_row as settled
        on ids.source = settled.source and ids.source_row = settled.source_row and ids.role = settled.role
    where ids.role = 'subject'
        and (ids.source_row * 7 + ids.source_rank) % stride.every = 0
)

select
    rows.source,
    rows.source_row,
    rows.role,
    rows.source_rank,
    rows.person_id,
    rows.is_training,
    case when not rows.is_training then rows.id_number end as id_number,
    rows.id_number_status,
    rows.id_number_raw,
    rows.name,
    rows.sex,
    rows.birth_date,
    rows.township,
    rows.village,
    rows.age_at_death,
    rows.death_date,
    rows.address,
    head.household_no as head_household_no,
    record_signature(rows) as record_signature
from rows
left join link.candidate_person as head
    on rows.head_id_number = head.id_number
where rows.source <> 'household_register'
    and rows.name is not null
