-- transfer_gap 转特困断档: months left unpaid between leaving dibao and entering tekun.
-- Policy: a covered member of a dibao case that stopped (停保) who later entered tekun: the
-- months strictly between 停保年月 and 开始年月, inside the window, living and present, in
-- which neither that case's 低保金 nor 特困供养金 was paid. Back-pay = gap months × the
-- person's tekun 月供养金. Tekun starting the month after 停保 is no gap.
with stopped_dibao as (
    select person_id, case_no as dibao_case_no, stop_month, roster_row as dibao_row, confidence as dibao_confidence,
        explanation as dibao_explanation
    from int.dibao_member
    where is_covered
        and case_status = 'stopped'
        and stop_month is not null
        and person_id is not null
),

tekun as (
    select person_id, case_no, start_month, monthly_amount, roster_row as tekun_row, confidence as tekun_confidence,
        explanation as tekun_explanation
    from int.tekun_member
    where person_id is not null
),

transfers as (
    -- per tekun case, the dibao case the person left last before it started
    select tekun.*, stopped_dibao.* exclude (person_id)
    from tekun
    inner join stopped_dibao
        on tekun.person_id = stopped_dibao.person_id
        and stopped_dibao.stop_month < tekun.start_month
    qualify row_number() over (
        partition by tekun.person_id, tekun.case_no
        order by stopped_dibao.stop_month desc, stopped_dibao.dibao_case_no desc
    ) = 1
),

gap_months as (
    select transfers.*, window_month.month
    from transfers
    inner join int.window_month as window_month
        on window_month.month > transfers.stop_month
        and window_month.month < transfers.start_month
    left join int.person_departure as departure
        on transfers.person_id = departure.person_id
    where departure.departure_month is null or window_month.month <= departure.departure_month
),

unpaid_months as (
    select gap_months.*
    from gap_months
    where not exists (
        select 1
        from int.person_month_paid as paid
        where paid.person_id = gap_months.person_id
            and paid.paid_month = gap_months.month
            and ((paid.programme = 'dibao' and paid.case_no = gap_months.dibao_case_no) or paid.programme = 'tekun')
    )
),

per_transfer as (
    select
        person_id,
        case_no,
        min(month) as period_start,
        max(month) as period_end,
        count(*) * any_value(monthly_amount) as backpay_amount,
        least(min(dibao_confidence), min(tekun_confidence)) as link_confidence,
        format('低保证号 {} 于 {} 停保（低保第 {} 行{}），特困供养证号 {} 自 {} 开始供养（特困第 {} 行{}）；{} 至 {} 共 {} 个月两项均未发放，'
            || '按月供养金 {} 元应补发 {} 元',
            any_value(dibao_case_no), month_text(any_value(stop_month)), any_value(dibao_row),
            link_note(any_value(dibao_confidence), any_value(dibao_explanation)),
            case_no, month_text(any_value(start_month)), any_value(tekun_row),
            link_note(any_value(tekun_confidence), any_value(tekun_explanation)),
            month_text(min(month)), month_text(max(month)), count(*),
            yuan_text(any_value(monthly_amount)), yuan_text(count(*) * any_value(monthly_amount))) as evidence
    from unpaid_months
    group by person_id, case_no
)

select
    'transfer_gap' as check_code,
    person_id,
    string_agg(case_no, '、' order by case_no) as case_no,
    min(period_start) as period_start,
    max(period_end) as period_end,
    0 as overpaid_amount,
    sum(backpay_amount) as backpay_amount,
    min(link_confidence) as link_confidence,
    string_agg(evidence, '；' order by case_no) as evidence,
    case_key('transfer_gap', person_id) as case_key
from per_transfer
group by person_id
