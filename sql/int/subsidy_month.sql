-- subsidy_month: per person, disability subsidy and window month, whether it was due and paid.
-- Policy: a month is due when a valid certificate of a qualifying grade is held and the
-- holder is living and present (int.certificate_month), from the later of the policy start
-- and the back-pay look-back; the amount due is the standard in force that month for the
-- grade (both in int.subsidy_grade_month). The living subsidy has further conditions (dibao,
-- not tekun) in its check.
-- When two certificates qualify in one month: the most severe grade, then the latest issued, then
-- the smaller number and category (a renewal listed twice is one certificate: int.certificate).
-- A view: a reader pays only for the subsidy and the months it asks for.
with standard_months as (
    select due_standard.programme, certificate_month.*, due_standard.monthly_amount
    from int.certificate_month
    inner join int.subsidy_grade_month as due_standard
        on certificate_month.grade = due_standard.grade
        and certificate_month.month = due_standard.month
),

due as (
    -- most holders have one certificate; only the others need choosing between
    select * from standard_months
    where holder_certificates = 1
    union all
    select * from standard_months
    where holder_certificates > 1
    qualify row_number() over (partition by programme, person_id, month order by grade, issue_date desc, case_no, category) = 1
)

select
    due.*,
    -- a lookup in the subsidy lines (not a join the other way round, which would hash every due month)
    exists (
        select 1
        from int.person_month_paid as paid
        where paid.programme in ('living_subsidy', 'care_subsidy')
            and paid.person_id = due.person_id
            and paid.programme = due.programme
            and paid.paid_month = due.month
    ) as is_paid
from due
