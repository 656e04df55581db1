-- outcome_case: every case of the history and every finding of this run, in one row each, with
-- this run's figures where it found the case and the history's otherwise. The money a case was
-- found with is the most it ever was (a finding shrinks as back-pay is paid, or as its months
-- leave the window, without the money having been due any less).
with history as (
    select * from chk.case_history
),

findings as (
    select * from chk.finding
)

select
    coalesce(findings.case_key, history.case_key) as case_key,
    coalesce(findings.check_code, history.check_code) as check_code,
    coalesce(findings.person_id, history.person_id) as person_id,
    coalesce(findings.township, history.township) as township,
    coalesce(findings.case_no, history.case_no) as case_no,
    findings.case_key is not null as is_found,
    history.first_seen_at,
    history.verdict,
    history.verdict_date,
    history.confirmed_month,
    coalesce(findings.period_start, history.previous_period_start) as period_start,
    coalesce(findings.period_end, history.previous_period_end) as period_end,
    greatest(findings.overpaid_amount, history.most_overpaid_amount) as overpaid_amount,
    greatest(findings.backpay_amount, history.most_backpay_amount) as backpay_due,
    history.recovered_amount,
    history.previous_overpaid_monthly_before,
    history.previous_monthly_stopped_amount,
    history.previous_backpay_months
from history
full outer join findings
    on history.case_key = findings.case_key
