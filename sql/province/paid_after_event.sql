-- paid_after_event: per paying county, person and event kind, the money paid after a death or
-- move-out that only another county records (province.paid_event), with its evidence: the event and
-- the county that records it, how the person was recognised there, and per programme and case the
-- months and money. Never a birth date or a citizen number: the number is said to agree, not shown.
-- Policy: as the county's int.paid_after_event; for 低保金 the person's share of each line.
with lines as (
    select * from province.paid_event
),

programme_lines as (
    select
        county,
        person_id,
        event_kind,
        programme,
        case_no,
        min(paid_month) as period_start,
        max(paid_month) as period_end,
        sum(amount) as overpaid_amount,
        format('其后本县仍发放{}（证号 {}）{}，{} 元{}（发放明细第 {} 行）',
            any_value(programme_label),
            case_no,
            months_text(paid_month),
            yuan_text(sum(amount)),
            case when max(covered_count) > 1
                then format('，按保障人数 {} 人分摊户月保障金的本人份额', max(covered_count))
                else '' end,
            -- sorted lists rather than ordered aggregates: as exact, far cheaper over many small groups
            array_to_string(list_sort(list(ledger_row)), '、')) as line_evidence
    from lines
    group by county, person_id, event_kind, programme, case_no
),

persons as (
    -- every line of a person comes after the same (earliest) event: one event per person and kind
    select
        county,
        person_id,
        event_kind,
        any_value(subject) as subject,
        any_value(id_number) as id_number,
        any_value(name) as name,
        any_value(township) as township,
        any_value(village) as village,
        any_value(event_county) as event_county,
        any_value(event_month) as event_month,
        any_value(event_source) as event_source,
        any_value(event_row) as event_row,
        any_value(record_no) as record_no,
        any_value(funeral_home) as funeral_home,
        any_value(identity_evidence) as identity_evidence,
        min(link_confidence) as link_confidence
    from lines
    group by county, person_id, event_kind
),

event_texts as (
    select
        *,
        case
            when event_source = 'cremation' then format('{}火化记录 {}，{}月份 {}（{}，该县火化第 {} 行）',
                county_text(event_county), record_no, label_of('event_kind', event_kind), month_text(event_month),
                coalesce(funeral_home, label_of('placeholder', 'blank')), event_row)
            else format('{}户籍登记{}，{}月份 {}（该县户籍第 {} 行）',
                county_text(event_county), label_of('event_kind', event_kind), label_of('event_kind', event_kind),
                month_text(event_month), event_row)
        end
        || case when event_kind = 'moved_out' then '；全省各县户籍均无此人正常或死亡登记' else '' end as event_evidence
    from persons
)

select
    event_texts.county,
    event_texts.person_id,
    event_texts.event_kind,
    event_texts.event_county as other_county,
    event_texts.subject,
    event_texts.id_number,
    event_texts.name,
    event_texts.township,
    event_texts.village,
    array_to_string(list_sort(list(programme_lines.case_no)), '、') as case_no,
    min(programme_lines.period_start) as period_start,
    max(programme_lines.period_end) as period_end,
    sum(programme_lines.overpaid_amount) as overpaid_amount,
    any_value(event_texts.link_confidence) as link_confidence,
    any_value(event_texts.event_evidence) || '；' || any_value(event_texts.identity_evidence) || '；'
        -- each sentence opens with its programme and case number: sorted, they read in that order
        || array_to_string(list_sort(list(programme_lines.line_evidence)), '；') as evidence
from event_texts
inner join programme_lines
    on event_texts.county = programme_lines.county
    and event_texts.person_id = programme_lines.person_id
    and event_texts.event_kind = programme_lines.event_kind
group by
    event_texts.county, event_texts.person_id, event_texts.event_kind, event_texts.event_county, event_texts.subject,
    event_texts.id_number, event_texts.name, event_texts.township, event_texts.village
