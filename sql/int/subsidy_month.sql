-- subsidy_month: per person, disability subsidy and window month, whether it was due and paid.
-- Policy: a month is due when a valid certificate of a qualifying grade is held and the
-- holder is living and present (int.certificate_month), from the later of the policy start
-- and the back-pay look-back; the amount due is the standard in force that month for the
-- grade. The living subsidy has further conditions (dibao, not tekun) in its check.
-- When two certificates qualify in one month: the most severe grade, then the latest issued, then
-- the smaller number and category (a renewal listed twice is one certificate: int.certificate).
with qualifying as (
    select 'living_subsidy' as programme, certificate_month.*
    from int.certificate_month
    where list_contains($living_subsidy_grades, grade)
        and month >= $living_subsidy_policy_start
    union all
    select 'care_subsidy' as programme, certificate_month.*
    from int.certificate_month
    where list_contains($care_subsidy_grades, grade)
        and month >= $care_subsidy_policy_start
),

standard_months as (
    select qualifying.*, standard.monthly_amount
    from qualifying
    inner join int.subsidy_standard_month as standard
        on standard.programme = qualifying.programme
        and standard.month = qualifying.month
        and (standard.grade is null or standard.grade = qualifying.grade)
    where qualifying.month >= $backpay_start_month
),

due as (
    -- most holders have one certificate; only the others need choosing between
    select * from standard_months
    where holder_certificates = 1
    union all
    select * from standard_months
    where holder_certificates > 1
    qualify row_number() over (partition by programme, person_id, month order by grade, issue_date desc, case_no, category) = 1
),

paid as (
    select distinct person_id, programme, paid_month as month
    from int.person_month_paid
    where programme in ('living_subsidy', 'care_subsidy')
)

select
    due.*,
    paid.person_id is not null as is_paid
from due
left join paid
    on due.person_id = paid.person_id
    and due.programme = paid.programme
    and due.month = paid.month
