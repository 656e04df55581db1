-- register_person: one row per citizen number the household register holds — the persons a
-- source row can be linked to with certainty. A number listed twice is described by its first row.
select
    person_id_of(id_number) as person_id,
    id_number,
    first_row.name,
    first_row.sex,
    first_row.birth_date,
    first_row.household_no,
    first_row.township,
    first_row.village,
    first_row.person_status,
    first_row.change_date as status_date,
    true as in_register,
    first_row.source_row as register_row
from (
    select
        id_number,
        arg_min(
            {'name': name, 'sex': sex, 'birth_date': birth_date, 'household_no': household_no, 'township': township,
             'village': village, 'person_status': person_status, 'change_date': change_date, 'source_row': source_row},
            source_row
        ) as first_row
    from link.identity_row
    where source = 'household_register'
        and id_number is not null
    group by id_number
)
