-- missed_care_subsidy 重度残疾人护理补贴漏发: a severely disabled certificate holder not paid.
-- Policy: months in the window in which the person holds a valid certificate of a grade in
-- $care_subsidy_grades, is living and present, and no 重度残疾人护理补贴 line was paid —
-- whether or not on dibao or tekun. Back-pay from the later of certificate issue, policy start
-- and the look-back, at the standard for the grade in force that month (the most severe
-- grade when two certificates are valid in one month).
with certificate_months as (
    select *
    from int.certificate_month
    where list_contains($care_subsidy_grades, grade)
        and month >= $care_subsidy_policy_start
        and month >= $backpay_start_month
    qualify row_number() over (partition by person_id, month order by grade, issue_date desc) = 1
),

missed_months as (
    select certificate_months.*, standard.monthly_amount
    from certificate_months
    inner join int.subsidy_standard_month as standard
        on standard.programme = 'care_subsidy'
        and standard.month = certificate_months.month
        and (standard.grade is null or standard.grade = certificate_months.grade)
    where not exists (
        select 1 from int.person_month_paid as paid
        where paid.person_id = certificate_months.person_id
            and paid.paid_month = certificate_months.month
            and paid.programme = 'care_subsidy'
    )
)

select
    'missed_care_subsidy' as check_code,
    person_id,
    arg_max(case_no, issue_date) as case_no,
    min(month) as period_start,
    max(month) as period_end,
    0 as overpaid_amount,
    sum(monthly_amount) as backpay_amount,
    min(confidence) as link_confidence,
    format('持残疾人证 {}（{}，发证 {}，有效期至 {}，证件状态{}，残疾人证第 {} 行{}）；{} 至 {} 共 {} 个月未发放重度残疾人护理补贴{}，按等级标准应补发 {} 元',
        arg_max(case_no, issue_date), arg_max(disability_text(category, grade), issue_date), arg_max(issue_date, issue_date),
        arg_max(valid_until, issue_date),
        arg_max(case certificate_status when 'valid' then '正常' when 'cancelled' then '注销' else '过期' end, issue_date),
        arg_max(roster_row, issue_date), link_note(arg_max(confidence, issue_date), arg_max(explanation, issue_date)),
        month_text(min(month)), month_text(max(month)), count(*),
        case when count(*) < date_diff('month', min(month), max(month)) + 1
            then format('（{}）', string_agg(month_text(month), '、' order by month)) else '' end,
        yuan_text(sum(monthly_amount))) as evidence,
    case_key('missed_care_subsidy', person_id) as case_key
from missed_months
group by person_id
