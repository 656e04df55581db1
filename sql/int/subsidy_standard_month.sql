-- subsidy_standard_month: the monthly standard in force for each window month, per programme and grade.
-- Policy: back-pay uses the standard in force for that month (and grade), from policy.yaml
-- (cfg.subsidy_standard: rows from a month on; a null grade applies to every grade).
with standards as (
    select * from cfg.subsidy_standard
)

select
    window_month.month,
    standards.programme,
    standards.grade,
    arg_max(standards.monthly_amount, standards.from_month) as monthly_amount
from int.window_month as window_month
inner join standards
    on standards.from_month <= window_month.month
group by window_month.month, standards.programme, standards.grade
