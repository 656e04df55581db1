-- line: one verdict per line of the batch file, read or not (storage/tables.py SCREEN_LINE).
-- A line is blocked (拦截) when a reason to block rests on sure links (at or above
-- $identity_review_threshold); a death or move-out on an unsure link holds it instead
-- (uncertain_event), another reason on an unsure link holds it as an identity to confirm; a line
-- with any reason to hold is held (暂缓); the rest pass (通过). A line the loader could not read
-- is held, never passed. `reason_code` is the first reason of the verdict's kind in the order of
-- screen/reasons.py (screen_reason.rank); `reason` and `evidence` give every reason, in that order.
with raw_lines as (
    select source_row, name, id_number as id_number_raw, case_no, township, md5(concat_ws('|', paid_month, programme,
        case_no, name, id_number, amount, township)) as line_hash
    from raw.payments
),

unreadable as (
    select
        source_row,
        'unreadable' as reason_code,
        0.0 as confidence,
        string_agg(format('{}「{}」{}', header, coalesce(value, ''), reason), '；' order by column_name) as evidence
    from stg.quarantine
    where source = 'payments'
    group by source_row
),

found as (
    -- a reason to block on an unsure link is a reason to look first
    select
        reasons.source_row,
        case
            when kinds.verdict = 'block' and reasons.confidence < $identity_review_threshold then
                case when reasons.reason_code in ('dead', 'moved_out') then 'uncertain_event' else 'uncertain_identity' end
            else reasons.reason_code
        end as reason_code,
        reasons.evidence
    from line_reason as reasons
    inner join screen_reason as kinds
        on reasons.reason_code = kinds.code
    union all
    select source_row, reason_code, evidence
    from unreadable
),

ranked as (
    select distinct found.source_row, found.reason_code, kinds.verdict, kinds.label, kinds.rank, found.evidence
    from found
    inner join screen_reason as kinds
        on found.reason_code = kinds.code
),

verdicts as (
    select
        source_row,
        case when bool_or(verdict = 'block') then 'block' else 'hold' end as verdict,
        arg_min(reason_code, (verdict <> 'block', rank, reason_code)) as reason_code,
        string_agg(evidence, '；' order by rank, evidence) as evidence
    from ranked
    group by source_row
),

labels as (
    -- each reason's label once, in precedence order
    select source_row, string_agg(label, '；' order by rank) as labels
    from (select distinct source_row, label, rank from ranked)
    group by source_row
),

lines as (
    select
        raw_lines.source_row,
        pay.paid_month,
        pay.programme,
        coalesce(pay.case_no, raw_lines.case_no) as case_no,
        coalesce(pay.name_raw, raw_lines.name) as name,
        pay.id_number,
        raw_lines.id_number_raw,
        cast(pay.amount as decimal(18, 2)) as amount,
        coalesce(pay.township, raw_lines.township) as township,
        persons.village,
        person.person_id,
        person.link_method,
        person.link_confidence,
        coalesce(verdicts.verdict, 'pass') as verdict,
        verdicts.reason_code,
        labels.labels as reason,
        verdicts.evidence,
        raw_lines.line_hash
    from raw_lines
    left join stg.payments as pay
        on raw_lines.source_row = pay.source_row
    left join line_person as person
        on raw_lines.source_row = person.source_row
    left join night.link.person as persons
        on person.person_id = persons.person_id
    left join verdicts
        on raw_lines.source_row = verdicts.source_row
    left join labels
        on raw_lines.source_row = labels.source_row
)

select
    source_row,
    paid_month,
    programme,
    case_no,
    name,
    id_number,
    id_number_raw,
    amount,
    township,
    village,
    person_id,
    link_method,
    link_confidence,
    verdict,
    reason_code,
    reason,
    evidence,
    -- the same line of the same month, screened again, is the same case; a repeated line is one
    -- case per line, so a batch's third copy is not the second's
    case when verdict <> 'pass' then case_key('screen:' || reason_code, concat_ws('|',
        coalesce(person_id, 'line:' || line_hash), programme, case_no, month_text(paid_month),
        case when reason_code = 'repeated_line' or person_id is null then source_row::varchar end)) end as case_key
from lines
order by source_row
