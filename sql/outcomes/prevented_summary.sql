-- prevented_summary: per screen verdict and reason, what the stopped payments came to (发放前拦截).
-- Lines and yuan are those of chk.screen_history (each payment once, from the latest screen that
-- stopped it); verdicts are counted per line by the verdict in force on its key. The rates are
-- those of outcome_summary: 属实 / (属实 + 不属实), 已整改 counted apart. Prevented (阻止发放): the
-- yuan of blocked lines confirmed 属实 or 已整改 (see screen_history.sql).
select
    screen_verdict,
    reason_code,
    count(*) as lines,
    count(*) filter (where verdict = '属实') as true_count,
    count(*) filter (where verdict = '不属实') as not_true_count,
    count(*) filter (where verdict = '已整改') as rectified_count,
    count(*) filter (where verdict is null) as no_verdict_count,
    count(*) filter (where verdict = '属实')
        / nullif(count(*) filter (where verdict in ('属实', '不属实')), 0) as true_rate,
    coalesce(sum(amount), 0) as amount,
    coalesce(sum(amount) filter (where is_prevented), 0) as prevented_amount,
    count(*) filter (where is_prevented) as prevented_lines
from chk.screen_history
group by screen_verdict, reason_code
order by screen_verdict, reason_code
