-- outcome_summary: per check, what inspectors measured and what the findings changed.
-- Verdicts are counted per case ever found, by the verdict in force; the rates are
-- 属实 / (属实 + 不属实) — the precision inspectors measured — and 不属实 / (属实 + 不属实),
-- 已整改 counted apart. Open past the deadline: found by this run, no verdict, first seen more
-- than $outcomes_verdict_deadline_days days before this moment (the history keeps UTC times).
-- Money from chk.outcome.
with cases as (
    select * from chk.outcome_case
),

verdicts as (
    select
        check_code,
        count(*) filter (where is_found) as findings,
        count(*) as cases,
        count(*) filter (where verdict = '属实') as true_count,
        count(*) filter (where verdict = '不属实') as not_true_count,
        count(*) filter (where verdict = '已整改') as rectified_count,
        count(*) filter (where verdict is null) as no_verdict_count,
        count(*) filter (
            where is_found
                and verdict is null
                and first_seen_at < timezone('UTC', now()) - to_days($outcomes_verdict_deadline_days)
        ) as open_past_deadline
    from cases
    group by check_code
),

outcomes as (
    select
        check_code,
        count(*) as tracked_cases,
        count(*) filter (where stopped) as stopped_cases,
        coalesce(sum(monthly_stopped_amount), 0) as monthly_stopped_amount,
        coalesce(sum(recovered_amount), 0) as recovered_amount,
        coalesce(sum(backpay_due), 0) as backpay_due,
        coalesce(sum(backpay_paid), 0) as backpay_paid,
        count(*) filter (where backpay_paid > 0) as backpay_paid_cases
    from chk.outcome
    group by check_code
)

select
    verdicts.check_code,
    verdicts.findings,
    verdicts.cases,
    verdicts.true_count,
    verdicts.not_true_count,
    verdicts.rectified_count,
    verdicts.no_verdict_count,
    verdicts.true_count / nullif(verdicts.true_count + verdicts.not_true_count, 0) as true_rate,
    verdicts.not_true_count / nullif(verdicts.true_count + verdicts.not_true_count, 0) as not_true_rate,
    verdicts.open_past_deadline,
    coalesce(outcomes.tracked_cases, 0) as tracked_cases,
    coalesce(outcomes.stopped_cases, 0) as stopped_cases,
    coalesce(outcomes.monthly_stopped_amount, 0) as monthly_stopped_amount,
    coalesce(outcomes.recovered_amount, 0) as recovered_amount,
    coalesce(outcomes.backpay_due, 0) as backpay_due,
    coalesce(outcomes.backpay_paid, 0) as backpay_paid,
    coalesce(outcomes.backpay_paid_cases, 0) as backpay_paid_cases
from verdicts
left join outcomes
    on verdicts.check_code = outcomes.check_code
order by verdicts.check_code
