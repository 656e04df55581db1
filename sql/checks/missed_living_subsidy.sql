-- missed_living_subsidy 困难残疾人生活补贴漏发: a certified disabled covered dibao member not paid.
-- Policy: months in the window in which the person holds a valid certificate (grade in
-- $living_subsidy_grades), is a covered member of a dibao case covering the month, is living
-- and present, is not on tekun, and no 困难残疾人生活补贴 line was paid. Back-pay from the
-- later of certificate issue, dibao start, policy start and the look-back, at the standard in
-- force for the month (int.subsidy_month).
with unpaid_months as (
    select *
    from int.subsidy_month
    where programme = 'living_subsidy'
        and not is_paid
),

missed_months as (
    -- covered by a dibao case that month (int.coverage_month, read as the memberships' month
    -- ranges: a person's unpaid months meet their few memberships, not every member's months)
    select
        unpaid_months.*,
        dibao.case_no as dibao_case_no,
        dibao.start_month as dibao_start_month,
        dibao.confidence as dibao_confidence,
        dibao.explanation as dibao_explanation
    from unpaid_months
    inner join int.dibao_member as dibao
        on unpaid_months.person_id = dibao.person_id
        and month_in(unpaid_months.month, dibao.start_month, dibao.end_month)
    where dibao.is_covered
        and not exists (
            select 1 from int.tekun_member as tekun
            where tekun.person_id = unpaid_months.person_id
                and month_in(unpaid_months.month, tekun.start_month, tekun.end_month)
        )
    qualify row_number() over (partition by unpaid_months.person_id, unpaid_months.month order by dibao.start_month, dibao.case_no) = 1
)

select
    'missed_living_subsidy' as check_code,
    person_id,
    arg_max(case_no, (issue_date, case_no, category, grade)) as case_no,
    min(month) as period_start,
    max(month) as period_end,
    0 as overpaid_amount,
    sum(monthly_amount) as backpay_amount,
    least(min(confidence), min(dibao_confidence)) as link_confidence,
    format('持{}，低保证号 {} 保障对象（{} 起{}）；{}未发放困难残疾人生活补贴，按标准应补发 {} 元',
        certificate_text(case_no, category, grade, issue_date, valid_until, certificate_status, roster_row, confidence, explanation),
        arg_max(dibao_case_no, month), month_text(arg_max(dibao_start_month, month)),
        link_note(arg_max(dibao_confidence, month), arg_max(dibao_explanation, month)),
        months_text(month), yuan_text(sum(monthly_amount))) as evidence,
    case_key('missed_living_subsidy', person_id) as case_key
from missed_months
group by person_id
