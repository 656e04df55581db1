-- register_person: one row per citizen number the household register holds — the persons a
-- source row can be linked to with certainty. A number listed twice is described by its first row.
select
    person_id_of(id_number) as person_id,
    id_number,
    arg_min(name, source_row) as name,
    arg_min(sex, source_row) as sex,
    arg_min(birth_date, source_row) as birth_date,
    arg_min(household_no, source_row) as household_no,
    arg_min(township, source_row) as township,
    arg_min(village, source_row) as village,
    arg_min(person_status, source_row) as person_status,
    arg_min(change_date, source_row) as status_date,
    true as in_register,
    min(source_row) as register_row
from link.identity_row
where source = 'household_register'
    and id_number is not null
group by id_number
