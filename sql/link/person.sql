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
    arg_min(id_number_clean, order_key) as id_number,
    arg_min(name, order_key) as name,
    arg_min(sex, order_key) as sex,
    arg_min(birth_date, order_key) as birth_date,
    arg_min(household_no, order_key) as household_no,
    arg_min(township, order_key) as township,
    arg_min(village, order_key) as village,
    cast(null as varchar) as person_status,
    cast(null as date) as status_date,
    false as in_register
from (
    select *, source_rank::bigint * 10000000000 + source_row::bigint * 2 + (role <> 'subject')::bigint as order_key
    from link.same_invalid_number
)
group by person_id
