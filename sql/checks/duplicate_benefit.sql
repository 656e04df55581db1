-- duplicate_benefit 重复享受: one person covered twice for the same month.
-- Policy: months in which a person is covered by two active dibao cases, or by a dibao case
-- and tekun, or has two ledger lines of the same 项目. Overpaid, month by month: for dibao
-- and tekun, the person's share of the dibao lines (tekun is the benefit that stays); for two
-- dibao cases, their share of the later-started case's lines; for a repeated line, every line
-- beyond the first per person, 项目 and month. A line is recovered once. Only months the
-- person is living and present (later months belong to deceased_paid / moved_out_paid).
with multiply_covered as (
    -- people on more than one roster case: the only ones whose months can overlap
    select person_id
    from (
        select person_id, case_no from int.dibao_member where is_covered
        union all
        select person_id, case_no from int.tekun_member
    ) as cases
    where person_id is not null
    group by person_id
    having count(distinct case_no) > 1
),

coverage as (
    select *
    from int.coverage_month
    where person_id in (select person_id from multiply_covered)
),

roster_overlaps as (
    -- a dibao case's month also covered by tekun, or by a dibao case started earlier (tie: the
    -- smaller case number): the dibao case is the one recovered
    select
        recovered.person_id,
        recovered.month,
        case other.programme when 'tekun' then 'dibao_and_tekun' else 'two_dibao' end as kind,
        recovered.case_no as recovered_case_no,
        case other.programme
            when 'tekun' then format('低保证号 {} 与特困供养证号 {}', recovered.case_no, other.case_no)
            else format('低保证号 {} 与 {}', other.case_no, recovered.case_no)
        end as cases_text,
        other.case_no || '、' || recovered.case_no as case_nos,
        least(recovered.confidence, other.confidence) as link_confidence
    from coverage as recovered
    inner join coverage as other
        on recovered.person_id = other.person_id
        and recovered.month = other.month
        and (other.programme = 'tekun'
            or other.start_month < recovered.start_month
            or (other.start_month = recovered.start_month and other.case_no < recovered.case_no))
    where recovered.programme = 'dibao'
),

overlap_lines as (
    -- the person's share of the recovered dibao case's lines in overlapping months
    select
        overlap.person_id,
        overlap.month,
        paid.ledger_row,
        paid.amount,
        paid.covered_count
    from roster_overlaps as overlap
    inner join int.person_month_paid as paid
        on paid.person_id = overlap.person_id
        and paid.paid_month = overlap.month
        and paid.programme = 'dibao'
        and paid.case_no = overlap.recovered_case_no
),

repeating_series as (
    -- person and 项目 (低保金: and case) with some month paid more than once: fewer months than
    -- lines (one bit per window month). Grouping by series, not by month, makes a hundred
    -- thousand groups of two million lines, not two million groups of one.
    select person_id, programme, case when programme = 'dibao' then case_no end as dibao_case_no
    from int.person_month_paid
    group by person_id, programme, case when programme = 'dibao' then case_no end
    having bit_count(bitstring_agg(date_diff('month', $window_start_month, paid_month), 0, $window_months - 1)) < count(*)
),

repeated_groups as (
    -- person, 项目 and month (低保金: and case) paid more than once
    select
        paid.person_id,
        paid.programme,
        paid.paid_month,
        repeating_series.dibao_case_no,
        min(paid.ledger_row) as first_ledger_row
    from int.person_month_paid as paid
    inner join repeating_series
        on paid.person_id = repeating_series.person_id
        and paid.programme = repeating_series.programme
        and (case when paid.programme = 'dibao' then paid.case_no end) is not distinct from repeating_series.dibao_case_no
    group by paid.person_id, paid.programme, paid.paid_month, repeating_series.dibao_case_no
    having count(*) > 1
),

repeated_lines as (
    -- every line beyond the first
    select
        paid.person_id,
        paid.paid_month as month,
        paid.programme,
        paid.case_no,
        paid.ledger_row,
        paid.amount,
        paid.covered_count,
        paid.link_confidence
    from int.person_month_paid as paid
    inner join repeated_groups as repeated
        on paid.person_id = repeated.person_id
        and paid.programme = repeated.programme
        and paid.paid_month = repeated.paid_month
        and (repeated.dibao_case_no is null or paid.case_no = repeated.dibao_case_no)
        and paid.ledger_row > repeated.first_ledger_row
),

repeated_facts as (
    select
        repeated.person_id,
        repeated.month,
        'repeated_line' as kind,
        cast(null as varchar) as recovered_case_no,
        format('{}（证号 {}）同月重复发放（发放明细第 {} 行）', vocabulary_label('programme', repeated.programme), repeated.case_no, repeated.ledger_row)
            as cases_text,
        repeated.case_no as case_nos,
        repeated.link_confidence
    from repeated_lines as repeated
),

all_facts as (
    select facts.*
    from (
        select * from roster_overlaps
        union all
        select * from repeated_facts
    ) as facts
    left join int.person_departure as departure
        on facts.person_id = departure.person_id
    where departure.departure_month is null or facts.month <= departure.departure_month
),

recovered_lines as (
    select distinct lines.person_id, lines.ledger_row, lines.amount, lines.covered_count
    from (
        select person_id, month, ledger_row, amount, covered_count from overlap_lines
        union all
        select person_id, month, ledger_row, amount, covered_count from repeated_lines
    ) as lines
    inner join all_facts
        on lines.person_id = all_facts.person_id
        and lines.month = all_facts.month
),

recovered as (
    select person_id, sum(amount) as overpaid_amount, count(*) as lines, bool_or(covered_count > 1) as has_shared_line
    from recovered_lines
    group by person_id
),

per_kind as (
    select
        person_id,
        kind,
        cases_text,
        min(month) as first_month,
        max(month) as last_month,
        count(distinct month) as months
    from all_facts
    group by person_id, kind, cases_text
),

per_person as (
    select
        all_facts.person_id,
        string_agg(distinct case_no.value, '、' order by case_no.value) as case_no,
        min(all_facts.month) as period_start,
        max(all_facts.month) as period_end,
        min(all_facts.link_confidence) as link_confidence
    from all_facts
    cross join unnest(string_split(all_facts.case_nos, '、')) as case_no(value)
    group by all_facts.person_id
),

texts as (
    select
        person_id,
        string_agg(format('{} {} 至 {} 共 {} 个月重复', cases_text, month_text(first_month), month_text(last_month), months),
            '；' order by first_month, cases_text) as facts_text
    from per_kind
    group by person_id
),

rules_applied as (
    -- the recovery rules this person's months fell under, and no other
    select
        all_facts.person_id,
        concat_ws('；',
            case when bool_or(all_facts.kind = 'dibao_and_tekun') then '低保与特困同月重叠的追回低保金，特困供养金不追回' end,
            case when bool_or(all_facts.kind = 'two_dibao') then '两个低保案件同月重叠的追回后纳入案件的低保金' end,
            case when bool_or(all_facts.kind = 'repeated_line') then '同一项目同月发放多笔的，第一笔以外的追回' end,
            case when any_value(recovered.has_shared_line) then '整户发放的低保金按保障人数分摊，只追回本人份额' end
        ) as rules_text
    from all_facts
    left join recovered
        on all_facts.person_id = recovered.person_id
    group by all_facts.person_id
)

select
    'duplicate_benefit' as check_code,
    per_person.person_id,
    per_person.case_no,
    per_person.period_start,
    per_person.period_end,
    coalesce(recovered.overpaid_amount, 0) as overpaid_amount,
    0 as backpay_amount,
    per_person.link_confidence,
    texts.facts_text || format('；应追回 {} 元（{} 笔；{}）',
        yuan_text(coalesce(recovered.overpaid_amount, 0)), coalesce(recovered.lines, 0), rules_applied.rules_text) as evidence,
    case_key('duplicate_benefit', per_person.person_id) as case_key
from per_person
inner join texts
    on per_person.person_id = texts.person_id
inner join rules_applied
    on per_person.person_id = rules_applied.person_id
left join recovered
    on per_person.person_id = recovered.person_id
