-- register_member: each register person with their household, relation and whether they
-- are still living and present at as_of.
-- Policy: the household is the register 户号, the people registered together; the
-- register cannot show relatives registered elsewhere.
with first_rows as (
    -- a number registered twice is one person, described by its first row
    select person_id, min(source_row) as register_row
    from link.person_record
    where source = 'household_register'
        and role = 'subject'
        and person_id is not null
    group by person_id
),

register_rows as (
    select
        first_rows.person_id,
        reg.source_row as register_row,
        reg.household_no,
        reg.relation,
        reg.name,
        reg.birth_date,
        reg.sex,
        reg.id_number
    from first_rows
    inner join stg.household_register as reg
        on reg.source_row = first_rows.register_row
)

select
    register_rows.*,
    coalesce(vocabulary_label('relation', register_rows.relation), '关系不详') as relation_label,
    departure.departure_month,
    departure.departure_label,
    departure.departure_month is null as is_present
from register_rows
left join int.person_departure as departure
    on register_rows.person_id = departure.person_id
