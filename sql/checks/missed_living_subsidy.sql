-- missed_living_subsidy 困难残疾人生活补贴漏发: a certified disabled covered dibao member not paid.
-- Policy: months in the window in which the person holds a valid certificate (grade in
-- $living_subsidy_grades), is a covered member of a dibao case covering the month, is living
-- and present, is not on tekun, and no 困难残疾人生活补贴 line was paid. Back-pay from the
-- later of certificate issue, dibao start, policy start and the look-back, at the standard in
-- force for the month (cfg.subsidy_standard).
with certificate_months as (
    select *
    from int.certificate_month
    where list_contains($living_subsidy_grades, grade)
        and month >= $living_subsidy_policy_start
        and month >= $backpay_start_month
),

covered_months as (
    select
        certificate_months.*,
        members.case_no as dibao_case_no,
        members.start_month as dibao_start_month,
        members.confidence as dibao_confidence,
        members.explanation as dibao_explanation
    from certificate_months
    inner join int.dibao_member as members
        on certificate_months.person_id = members.person_id
        and members.is_covered
        and month_in(certificate_months.month, members.start_month, members.end_month)
    qualify row_number() over (
        partition by certificate_months.person_id, certificate_months.month
        order by certificate_months.issue_date desc, members.start_month, members.case_no
    ) = 1
),

missed_months as (
    select covered_months.*, standard.monthly_amount
    from covered_months
    inner join int.subsidy_standard_month as standard
        on standard.programme = 'living_subsidy'
        and standard.month = covered_months.month
        and (standard.grade is null or standard.grade = covered_months.grade)
    where not exists (
        select 1 from int.tekun_member as tekun
        where tekun.person_id = covered_months.person_id
            and month_in(covered_months.month, tekun.start_month, tekun.end_month)
    )
        and not exists (
            select 1 from int.person_month_paid as paid
            where paid.person_id = covered_months.person_id
                and paid.paid_month = covered_months.month
                and paid.programme = 'living_subsidy'
        )
)

select
    'missed_living_subsidy' as check_code,
    person_id,
    arg_max(case_no, issue_date) as case_no,
    min(month) as period_start,
    max(month) as period_end,
    0 as overpaid_amount,
    sum(monthly_amount) as backpay_amount,
    least(min(confidence), min(dibao_confidence)) as link_confidence,
    format('持残疾人证 {}（{}，发证 {}，有效期至 {}，残疾人证第 {} 行{}），低保证号 {} 保障对象（{} 起{}）；{} 至 {} 共 {} 个月未发放困难残疾人生活补贴{}，'
        || '按标准应补发 {} 元',
        arg_max(case_no, issue_date), arg_max(disability_text(category, grade), issue_date), arg_max(issue_date, issue_date),
        arg_max(valid_until, issue_date), arg_max(roster_row, issue_date),
        link_note(arg_max(confidence, issue_date), arg_max(explanation, issue_date)),
        arg_max(dibao_case_no, month), month_text(arg_max(dibao_start_month, month)),
        link_note(arg_max(dibao_confidence, month), arg_max(dibao_explanation, month)),
        month_text(min(month)), month_text(max(month)), count(*),
        case when count(*) < date_diff('month', min(month), max(month)) + 1
            then format('（{}）', string_agg(month_text(month), '、' order by month)) else '' end,
        yuan_text(sum(monthly_amount))) as evidence,
    case_key('missed_living_subsidy', person_id) as case_key
from missed_months
group by person_id
