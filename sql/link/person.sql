-- person: one row per person a source row can be linked to — the register's persons, numbers no
-- register person holds and nothing in the county resembles, and unrepairable numbers of unknown
-- people (same_invalid_number). in_register says which are the register's.
select * exclude (register_row) from link.register_person
union all
select * exclude (register_row)
from link.outside_person
where id_number not in (select id_number from link.number_resolution)
union all
select
    person_id,
    first_row.id_number_clean as id_number,
    first_row.name,
    first_row.sex,
    first_row.birth_date,
    first_row.household_no,
    first_row.township,
    first_row.village,
    cast(null as varchar) as person_status,
    cast(null as date) as status_date,
    false as in_register
from (
    select
        person_id,
        arg_min(
            {'id_number_clean': id_number_clean, 'name': name, 'sex': sex, 'birth_date': birth_date,
             'household_no': household_no, 'township': township, 'village': village},
            source_rank::bigint * 10000000000 + source_row::bigint * 2 + (role <> 'subject')::bigint
        ) as first_row
    from link.same_invalid_number
    group by person_id
)
