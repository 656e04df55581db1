-- register_person: one row per citizen number the household register holds — the persons a
-- source row can be linked to with certainty. A number listed twice is described by its first row.
with first_rows as (
    select min(source_row) as source_row
    from link.register_row
    where id_number is not null
    group by id_number
)

select
    person_id_of(ids.id_number) as person_id,
    ids.id_number,
    ids.name,
    ids.sex,
    ids.birth_date,
    ids.household_no,
    ids.township,
    ids.village,
    ids.person_status,
    ids.change_date as status_date,
    true as in_register,
    ids.source_row as register_row
from link.register_row as ids
semi join first_rows
    on ids.source_row = first_rows.source_row
