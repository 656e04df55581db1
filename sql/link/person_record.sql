-- person_record: one row per (source row, role) — who the row is about, how that is known and
-- how sure. The precedence, highest first:
--   1. an inspector confirmed the link ('confirmed', 1.0);
--   2. a certain link: the number is a register person's (exact, upgraded) or one slip from one (repaired);
--   3. a well-formed number no register person holds: the register person the evidence links the
--      number to (probabilistic), else the number's own person outside the register (exact, upgraded);
--   4. the probabilistic layer's link for a row without a usable number;
--   5. an unrepairable number shared with other rows of the same name (same_invalid_number);
--   6. none.
-- A link an inspector rejected is undone whichever step made it. Settled rows (1 and 2) come as
-- they are; only the unsettled ones are joined with the later steps.
with uncertain as (
    select
        ids.source,
        ids.source_row,
        ids.role,
        case
            when resolved.person_id is not null then resolved.person_id
            when outside.person_id is not null then outside.person_id
            when linked.person_id is not null then linked.person_id
            else same.person_id
        end as person_id,
        case
            when resolved.person_id is not null then 'probabilistic'
            when outside.person_id is not null then case ids.id_number_status when 'valid' then 'exact' else 'upgraded' end
            when linked.person_id is not null then 'probabilistic'
            when same.person_id is not null then 'same_invalid_number'
        end as method,
        case
            when resolved.person_id is not null then resolved.confidence
            when outside.person_id is not null then 1.0
            when linked.person_id is not null then linked.confidence
            when same.person_id is not null then 0.9
        end as confidence,
        case
            when resolved.person_id is not null then resolved.explanation
            when outside.person_id is not null then
                case ids.id_number_status when 'valid' then '身份证号一致' else '15位身份证号升位后一致' end
                    || '（户籍无此号码，县内无相近之人）'
            when linked.person_id is not null then linked.explanation
            when same.person_id is not null then '身份证号校验不通过且无法修复、户籍无此人，按相同号码和姓名归为同一人'
        end as explanation
    from link.unsettled_row as ids
    left join link.number_resolution as resolved
        on ids.id_number = resolved.id_number
    left join link.outside_person as outside
        on ids.id_number = outside.id_number
    left join link.probabilistic_row as linked
        on ids.source = linked.source and ids.source_row = linked.source_row and ids.role = linked.role
        and linked.decision in ('linked', 'linked_to_confirm')
    left join link.same_invalid_number as same
        on ids.source = same.source and ids.source_row = same.source_row and ids.role = same.role
),

chosen as (
    select source, source_row, role, person_id, method, confidence, explanation from link.settled_row
    union all
    select * from uncertain
),

decided as (
    select
        source, source_row, role,
        min(person_id) filter (where decision = 'same') as confirmed_person
    from link.inspector_decision
    group by source, source_row, role
)

select
    chosen.source,
    chosen.source_row,
    chosen.role,
    case
        when decided.confirmed_person is not null then decided.confirmed_person
        when rejected.person_id is not null then null
        else chosen.person_id
    end as person_id,
    case
        when decided.confirmed_person is not null then 'confirmed'
        when rejected.person_id is not null then null
        else chosen.method
    end as method,
    case
        when decided.confirmed_person is not null then 1.0
        when rejected.person_id is not null then null
        else chosen.confidence
    end as confidence,
    case
        when decided.confirmed_person is not null then '核查人员确认为同一人'
        when rejected.person_id is not null then '核查人员确认不是同一人'
        else chosen.explanation
    end as explanation
from chosen
left join decided
    on chosen.source = decided.source and chosen.source_row = decided.source_row and chosen.role = decided.role
left join link.inspector_decision as rejected
    on chosen.source = rejected.source and chosen.source_row = rejected.source_row and chosen.role = rejected.role
    and rejected.decision = 'different'
    and rejected.person_id = chosen.person_id
