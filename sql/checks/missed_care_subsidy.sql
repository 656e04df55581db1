-- missed_care_subsidy 重度残疾人护理补贴漏发: a severely disabled certificate holder not paid.
-- Policy: months in the window in which the person holds a valid certificate of a grade in
-- $care_subsidy_grades, is living and present, and no 重度残疾人护理补贴 line was paid —
-- whether or not on dibao or tekun. Back-pay from the later of certificate issue, policy start
-- and the look-back, at the standard for the grade in force that month (int.subsidy_month).
with missed_months as (
    select *
    from int.subsidy_month
    where programme = 'care_subsidy'
        and not is_paid
)

select
    'missed_care_subsidy' as check_code,
    person_id,
    arg_max(case_no, (issue_date, case_no, category, grade)) as case_no,
    min(month) as period_start,
    max(month) as period_end,
    0 as overpaid_amount,
    sum(monthly_amount) as backpay_amount,
    min(confidence) as link_confidence,
    format('持{}；{}未发放重度残疾人护理补贴，按等级标准应补发 {} 元',
        certificate_text(case_no, category, grade, issue_date, valid_until, certificate_status, roster_row, confidence, explanation),
        months_text(month), yuan_text(sum(monthly_amount))) as evidence,
    case_key('missed_care_subsidy', person_id) as case_key
from missed_months
group by person_id
