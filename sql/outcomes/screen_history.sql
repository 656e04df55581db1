-- screen_history: every payment a screen stopped, as outcomes read it. Runs against
-- audit.duckdb (the history), not a run's database; audit/outcomes.py copies the rows into
-- the run's chk.screen_history.
-- A payment is a verdict's key and the month it pays (case_key, paid_month): the same batch
-- screened twice, or a corrected batch screened again, stops it once. Its lines are those of
-- the latest screen that blocked or held it (the batch that would have gone to the bank), each
-- with the verdict in force on its key (the latest, as audit/history.py reads it). A line
-- without a key (never expected) is a payment of its own.
-- Money prevented (阻止发放): a blocked line whose verdict in force is 属实 or 已整改 — the
-- payment was wrong and the screen kept it from being paid. A held line is not counted: it
-- was stopped for a person to look first, and a 属实 on it (a departed member, an amount to
-- recalculate) does not say how much of it was not due.
with screened as (
    select
        line.*,
        screens.batch_month,
        screens.published_at,
        coalesce(line.case_key, line.screen_id || ':' || line.source_row) as payment_key
    from audit.screen_line as line
    inner join audit.screen as screens
        on line.screen_id = screens.screen_id
),

latest_lines as (
    select *
    from screened
    qualify dense_rank() over (
        partition by payment_key, paid_month order by published_at desc, screen_id desc
    ) = 1
)

select
    latest_lines.screen_id,
    latest_lines.source_row,
    latest_lines.case_key,
    latest_lines.batch_month,
    latest_lines.paid_month,
    latest_lines.verdict as screen_verdict,
    latest_lines.reason_code,
    latest_lines.programme,
    latest_lines.case_no,
    latest_lines.township,
    latest_lines.person_id,
    latest_lines.amount,
    latest_verdicts.verdict,
    latest_verdicts.verdict_date,
    latest_lines.verdict = 'block' and coalesce(latest_verdicts.verdict in ('属实', '已整改'), false) as is_prevented
from latest_lines
left join verdict_in_force as latest_verdicts
    on latest_lines.case_key = latest_verdicts.case_key
order by latest_lines.screen_id, latest_lines.source_row
