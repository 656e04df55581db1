-- outside_person: one row per well-formed number that no register person holds. Such a number
-- is evidence, not identity: a mistyped 15-digit number upgrades to a valid number of nobody, and
-- two slips pass the check one time in eleven. Its rows go to the probabilistic layer
-- (link.candidate_record) with the number as a comparison; the number stays a person of its own
-- only when no register person resembles it (link.number_resolution). Described by its first
-- row: rows about the person before head columns, then sources in declaration order.
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
    false as in_register,
    cast(null as integer) as register_row
from (
    select
        ids.id_number,
        arg_min(
            {'name': name, 'sex': sex, 'birth_date': birth_date, 'household_no': household_no, 'township': township,
             'village': village, 'person_status': person_status, 'change_date': change_date},
            (ids.role <> 'subject')::bigint * 1000000000000 + ids.source_rank::bigint * 1000000000 + ids.source_row
        ) as first_row
    from link.identity_row as ids
    where ids.id_number is not null
        and ids.source <> 'household_register'
        and not exists (select 1 from link.register_person as register where register.id_number = ids.id_number)
    group by ids.id_number
)
