-- case_history: every case of an out folder's history, as outcomes read it. Runs against
-- audit.duckdb (the history), not a run's database; audit/outcomes.py copies the rows into
-- the run's chk.case_history.
-- One row per case ever found: when it was first seen, the verdict in force (the latest, as
-- audit/history.py reads it), the ledger month of the run inspectors first confirmed it on
-- (属实 or 已整改), the most money it was ever found with, the recovery last recorded (each
-- record is the amount recovered so far), and the outcome the latest recorded run gave it
-- (carried forward once the ledger window or the check no longer shows the months).
with runs as (
    select
        run_id,
        published_at,
        try_strptime(as_of, '%Y-%m')::date as as_of_month
    from audit.run
),

confirmations as (
    select
        disposition.case_key,
        arg_min(runs.as_of_month, (disposition.recorded_at, runs.as_of_month)) as confirmed_month  -- ties: the earlier month
    from audit.disposition as disposition
    inner join runs
        on disposition.run_id = runs.run_id
    where disposition.conclusion in ('属实', '已整改')
    group by disposition.case_key
),

money_found as (
    select
        case_key,
        max(overpaid_amount) as most_overpaid_amount,
        max(backpay_amount) as most_backpay_amount
    from audit.case_run
    group by case_key
),

latest_recoveries as (
    select
        case_key,
        cast(recovered_amount as double) as recovered_amount
    from audit.recovery
    qualify row_number() over (partition by case_key order by recorded_at desc) = 1
),

previous_outcomes as (
    select outcome.*
    from audit.outcome as outcome
    inner join runs
        on outcome.run_id = runs.run_id
    qualify row_number() over (partition by outcome.case_key order by runs.published_at desc, outcome.run_id desc) = 1
)

select
    cases.case_key,
    cases.check_code,
    cases.person_id,
    cases.township,
    cases.case_no,
    first_run.published_at as first_seen_at,
    latest_verdicts.verdict,
    latest_verdicts.verdict_date,
    confirmations.confirmed_month,
    money_found.most_overpaid_amount,
    money_found.most_backpay_amount,
    latest_recoveries.recovered_amount,
    previous_outcomes.period_start as previous_period_start,
    previous_outcomes.period_end as previous_period_end,
    previous_outcomes.overpaid_monthly_before as previous_overpaid_monthly_before,
    previous_outcomes.monthly_stopped_amount as previous_monthly_stopped_amount,
    previous_outcomes.backpay_months as previous_backpay_months
from audit.case as cases
left join runs as first_run
    on cases.first_seen_run = first_run.run_id
left join verdict_in_force as latest_verdicts
    on cases.case_key = latest_verdicts.case_key
left join confirmations
    on cases.case_key = confirmations.case_key
left join money_found
    on cases.case_key = money_found.case_key
left join latest_recoveries
    on cases.case_key = latest_recoveries.case_key
left join previous_outcomes
    on cases.case_key = previous_outcomes.case_key
