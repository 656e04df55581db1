-- line_person: who each readable batch line pays, linked with the night's state.
-- A line whose identity — 身份证号 as written and name — the night's ledger holds is linked as the
-- night's linker linked it (with its confidence: the same linker, the same model); a line of a new
-- identity whose well-formed number (or 15-digit number upgraded) is a person's of the night is
-- linked on the number, as the linker's exact step does. The rest are linked to nobody: a person
-- looks at them before they are paid. An identity the night linked to two persons is as unsure as
-- its least sure row, and keeps the surer person.
with lines as (
    select source_row, id_number, id_number_raw, id_number_status, name
    from stg.payments
),

batch_identities as (
    select distinct coalesce(id_number_raw, '') as number_key, coalesce(name, '') as name_key
    from lines
),

night_rows as (
    select
        coalesce(pay.id_number_raw, '') as number_key,
        coalesce(pay.name, '') as name_key,
        rec.person_id,
        rec.method,
        rec.confidence,
        rec.explanation
    from night.stg.payments as pay
    semi join batch_identities as ids
        on coalesce(pay.id_number_raw, '') = ids.number_key
        and coalesce(pay.name, '') = ids.name_key
    inner join night.link.person_record as rec
        on rec.source = 'payments'
        and rec.source_row = pay.source_row
        and rec.role = 'subject'
    where rec.person_id is not null
),

night_identities as (
    select
        number_key,
        name_key,
        arg_max(person_id, (confidence, person_id)) as person_id,
        arg_max(explanation, (confidence, person_id)) as explanation,
        case when count(distinct person_id) > 1 then min(confidence) else max(confidence) end as confidence
    from night_rows
    group by number_key, name_key
),

by_number as (
    select lines.source_row, persons.person_id
    from lines
    inner join night.link.person as persons
        on lines.id_number = persons.id_number
    where lines.id_number_status in ('valid', 'upgraded')
    qualify row_number() over (partition by lines.source_row order by persons.in_register desc, persons.person_id) = 1
)

select
    lines.source_row,
    coalesce(known.person_id, by_number.person_id) as person_id,
    case
        when known.person_id is not null then 'night'
        when by_number.person_id is not null then case lines.id_number_status when 'valid' then 'exact' else 'upgraded' end
    end as link_method,
    case
        when known.person_id is not null then known.confidence
        when by_number.person_id is not null then 1.0
    end as link_confidence,
    case
        when known.person_id is not null then known.explanation
        when by_number.person_id is not null then
            case lines.id_number_status when 'valid' then '身份证号一致' else '15位身份证号升位后一致' end
    end as link_explanation
from lines
left join night_identities as known
    on coalesce(lines.id_number_raw, '') = known.number_key
    and coalesce(lines.name, '') = known.name_key
left join by_number
    on lines.source_row = by_number.source_row
