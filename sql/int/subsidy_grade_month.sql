-- subsidy_grade_month: per disability subsidy, each qualifying grade and window month in which the
-- subsidy can be due on a certificate of that grade, with the standard in force.
-- Policy: living subsidy for the grades in $living_subsidy_grades, care subsidy for those in
-- $care_subsidy_grades, each from the later of its policy start and the back-pay look-back; the
-- standard is the one in force that month for the grade (int.subsidy_standard_month: a null grade
-- applies to every grade). A handful of rows: the policy's part of int.subsidy_month, apart, so
-- that one needs no parameter and reads as a view.
with grades as (
    select
        'living_subsidy' as programme,
        unnest($living_subsidy_grades) as grade,
        greatest($living_subsidy_policy_start, $backpay_start_month) as first_month
    union all
    select
        'care_subsidy' as programme,
        unnest($care_subsidy_grades) as grade,
        greatest($care_subsidy_policy_start, $backpay_start_month) as first_month
)

select
    grades.programme,
    grades.grade,
    standard.month,
    standard.monthly_amount
from grades
inner join int.subsidy_standard_month as standard
    on standard.programme = grades.programme
    and (standard.grade is null or standard.grade = grades.grade)
where standard.month >= grades.first_month
