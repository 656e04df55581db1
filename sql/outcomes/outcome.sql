-- outcome: what became of each tracked case, read from this run's ledger.
-- Tracked: every case inspectors confirmed (verdict in force 属实 or 已整改), and every back-pay
-- finding they have not found untrue (不属实: nothing was due).
-- Overpayment: it stopped when this run's check finds no overpaid month in the ledger's latest
-- month, or no longer finds the case; the last overpaid month is the finding's last month. The
-- monthly amount stopped compares, per programme and case number of the finding, the person's
-- lines in the month inspectors confirmed it on (or its last overpaid month, if earlier) with
-- those in the ledger's latest month: what was being paid and no longer is. Lines that stay
-- (tekun beside a recovered dibao case in duplicate_benefit) cancel out; the monthly amount
-- before counts them.
-- Back-pay: the months found unpaid (by this run or an earlier one) and the person's lines of
-- the programme that pays them, since paid for those months.
with ledger as (
    -- the ledger's latest month: a ledger posted a month late is not a month of stopped payments
    select max(paid_month) as ledger_month
    from stg.payments
    where paid_month <= $as_of_month
),

tracked as (
    select *
    from chk.outcome_case
    where verdict in ('属实', '已整改')
        or (backpay_due > 0 and verdict is distinct from '不属实')
),

overpayments as (
    select
        tracked.*,
        least(tracked.confirmed_month, tracked.period_end) as before_month,
        ledger.ledger_month
    from tracked
    cross join ledger
    where tracked.overpaid_amount > 0
),

finding_streams as (
    -- the person's lines per programme and case number of the finding, before and latest
    select
        overpayments.case_key,
        paid.programme,
        paid.case_no,
        sum(paid.amount) filter (where paid.paid_month = overpayments.before_month) as before_amount,
        sum(paid.amount) filter (where paid.paid_month = overpayments.ledger_month) as latest_amount
    from overpayments
    inner join int.person_month_paid as paid
        on paid.person_id = overpayments.person_id
        and list_contains(string_split(overpayments.case_no, '、'), paid.case_no)
        and paid.paid_month in (overpayments.before_month, overpayments.ledger_month)
    group by overpayments.case_key, paid.programme, paid.case_no
),

overpayment_outcomes as (
    -- a month before that has left the ledger window: what an earlier run saw of it
    select
        overpayments.case_key,
        overpayments.period_end as last_paid_month,
        not overpayments.is_found or overpayments.period_end < overpayments.ledger_month as stopped,
        case when overpayments.before_month >= $window_start_month
            then coalesce(sum(streams.before_amount), 0)
            else overpayments.previous_overpaid_monthly_before
        end as overpaid_monthly_before,
        case when overpayments.before_month >= $window_start_month
            then coalesce(sum(greatest(coalesce(streams.before_amount, 0) - coalesce(streams.latest_amount, 0), 0)), 0)
            else overpayments.previous_monthly_stopped_amount
        end as monthly_stopped_amount
    from overpayments
    left join finding_streams as streams
        on overpayments.case_key = streams.case_key
    group by
        overpayments.case_key, overpayments.period_end, overpayments.is_found, overpayments.ledger_month,
        overpayments.before_month, overpayments.previous_overpaid_monthly_before, overpayments.previous_monthly_stopped_amount
),

backpay_programmes as (
    -- the programme whose lines pay each check's back-pay: a transfer gap is filled by either benefit
    select *
    from (values
        ('missed_care_subsidy', 'care_subsidy'),
        ('missed_living_subsidy', 'living_subsidy'),
        ('transfer_gap', 'tekun'),
        ('transfer_gap', 'dibao')
    ) as programmes(check_code, programme)
),

backpays as (
    select *
    from tracked
    where backpay_due > 0
),

backpay_lines as (
    select
        backpays.case_key,
        paid.paid_month,
        paid.amount
    from backpays
    inner join backpay_programmes
        on backpays.check_code = backpay_programmes.check_code
    inner join int.person_month_paid as paid
        on paid.person_id = backpays.person_id
        and paid.programme = backpay_programmes.programme
),

finding_months as (
    select
        case_key,
        cast(unnest(generate_series(period_start, period_end, interval 1 month)) as date) as month
    from backpays
    where is_found
),

unpaid_months as (
    -- the months of this run's finding no line pays, and those earlier runs found unpaid
    select finding_months.case_key, finding_months.month
    from finding_months
    left join backpay_lines
        on finding_months.case_key = backpay_lines.case_key
        and finding_months.month = backpay_lines.paid_month
    where backpay_lines.case_key is null
    union
    select case_key, unnest(previous_backpay_months) as month
    from backpays
),

backpay_months as (
    select
        case_key,
        list(month order by month) as backpay_months
    from unpaid_months
    group by case_key
),

backpay_paid as (
    select
        backpay_months.case_key,
        sum(backpay_lines.amount) as backpay_paid,
        count(distinct backpay_lines.paid_month) as backpay_paid_months
    from backpay_months
    inner join backpay_lines
        on backpay_months.case_key = backpay_lines.case_key
        and list_contains(backpay_months.backpay_months, backpay_lines.paid_month)
    group by backpay_months.case_key
)

select
    tracked.case_key,
    tracked.check_code,
    tracked.township,
    tracked.verdict,
    tracked.verdict_date,
    tracked.is_found,
    tracked.period_start,
    tracked.period_end,
    overpayment_outcomes.overpaid_monthly_before,
    overpayment_outcomes.last_paid_month,
    overpayment_outcomes.stopped,
    case when overpayment_outcomes.stopped
        then cast(overpayment_outcomes.last_paid_month + interval 1 month as date)
    end as stopped_month,
    overpayment_outcomes.monthly_stopped_amount,
    case when tracked.backpay_due > 0 then tracked.backpay_due end as backpay_due,
    backpay_months.backpay_months,
    case when tracked.backpay_due > 0 then coalesce(backpay_paid.backpay_paid, 0) end as backpay_paid,
    case when tracked.backpay_due > 0 then coalesce(backpay_paid.backpay_paid_months, 0) end as backpay_paid_months,
    tracked.recovered_amount
from tracked
left join overpayment_outcomes
    on tracked.case_key = overpayment_outcomes.case_key
left join backpay_months
    on tracked.case_key = backpay_months.case_key
left join backpay_paid
    on tracked.case_key = backpay_paid.case_key
