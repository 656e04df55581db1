-- outside_person: one row per well-formed number that no register person holds. Such a number
-- is evidence, not identity: a mistyped 15-digit number upgrades to a valid number of nobody, and
-- two slips pass the check one time in eleven. Its rows go to the probabilistic layer
-- (link.candidate_record) with the number as a comparison; the number stays a person of its own
-- only when no register person resembles it (link.number_resolution). Described by its first
-- row: rows about the person before head columns, then sources in declaration order.
select
    person_id_of(id_number) as person_id,
    id_number,
    arg_min(name, order_key) as name,
    arg_min(sex, order_key) as sex,
    arg_min(birth_date, order_key) as birth_date,
    arg_min(household_no, order_key) as household_no,
    arg_min(township, order_key) as township,
    arg_min(village, order_key) as village,
    arg_min(person_status, order_key) as person_status,
    arg_min(change_date, order_key) as status_date,
    false as in_register,
    cast(null as integer) as register_row
from (
    select
        ids.*,
        (ids.role <> 'subject')::bigint * 1000000000000 + ids.source_rank::bigint * 1000000000 + ids.source_row as order_key
    from link.identity_row as ids
    where ids.id_number is not null
        and ids.source <> 'household_register'
        and not exists (select 1 from link.register_person as register where register.id_number = ids.id_number)
)
group by id_number
