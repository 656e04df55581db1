-- paid_after_event: per person and event, the money paid for months after the event month.
-- Policy: the event month itself is paid correctly; later months are overpaid.
-- A person who moved out and died has each line counted under the earlier event only.
with events as (
    select * from int.person_event
),

paid as (
    select * from int.person_month_paid
),

lines_after_event as (
    select
        paid.*,
        events.event_kind,
        events.event_label,
        events.event_month,
        events.evidence as event_evidence,
        events.link_confidence as event_confidence
    from paid
    inner join events
        on paid.person_id = events.person_id
    where is_after_event(paid.paid_month, events.event_month)
    qualify row_number() over (
        partition by paid.person_id, paid.ledger_row
        order by events.event_month, events.event_kind
    ) = 1
),

programme_lines as (
    -- one evidence sentence per programme and case
    select
        person_id,
        event_kind,
        programme,
        case_no,
        min(paid_month) as period_start,
        max(paid_month) as period_end,
        sum(amount) as overpaid_amount,
        min(link_confidence) as link_confidence,
        format('{}后仍发放{}（证号 {}）{} 至 {} 共 {} 个月 {} 元{}（发放明细第 {} 行）',
            any_value(event_label),
            any_value(vocabulary_label('programme', programme)),
            case_no,
            month_text(min(paid_month)), month_text(max(paid_month)),
            count(distinct paid_month), yuan_text(sum(amount)),
            case when max(covered_count) > 1
                then format('，按保障人数 {} 人分摊户月保障金', max(covered_count))
                else '' end,
            string_agg(cast(ledger_row as varchar), '、' order by ledger_row)) as line_evidence,
        any_value(event_evidence) as event_evidence,
        any_value(event_confidence) as event_confidence
    from lines_after_event
    group by person_id, event_kind, programme, case_no
)

select
    person_id,
    event_kind,
    string_agg(case_no, '、' order by case_no) as case_no,
    min(period_start) as period_start,
    max(period_end) as period_end,
    sum(overpaid_amount) as overpaid_amount,
    least(min(link_confidence), min(event_confidence)) as link_confidence,
    any_value(event_evidence) || '；' || string_agg(line_evidence, '；' order by programme, case_no) as evidence
from programme_lines
group by person_id, event_kind
