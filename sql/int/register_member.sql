-- register_member: each register person with their household, relation and whether they
-- are still living and present at as_of.
-- Policy: the household is the register 户号, the people registered together; the
-- register cannot show relatives registered elsewhere.
with register_rows as (
    select
        rec.person_id,
        reg.source_row as register_row,
        reg.household_no,
        reg.relation,
        reg.name,
        reg.birth_date,
        reg.sex,
        reg.id_number
    from stg.household_register as reg
    inner join link.person_record as rec
        on rec.source = 'household_register'
        and rec.source_row = reg.source_row
        and rec.role = 'subject'
    where rec.person_id is not null
    qualify row_number() over (partition by rec.person_id order by reg.source_row) = 1
),

relation_labels as (
    select code as relation, label as relation_label
    from stg.vocabulary
    where column_name = 'relation'
)

select
    register_rows.*,
    coalesce(relation_labels.relation_label, '关系不详') as relation_label,
    departure.departure_month,
    departure.departure_label,
    departure.departure_month is null as is_present
from register_rows
left join relation_labels
    on register_rows.relation = relation_labels.relation
left join int.person_departure as departure
    on register_rows.person_id = departure.person_id
