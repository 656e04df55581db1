-- deceased_paid 死亡人员仍领取: benefit paid for months after the person's death month.
-- Policy: payment stops with the month of death; later lines are recovered. For
-- 低保金 the dead covered member's share of each later line (see int.person_month_paid).
with overpaid as (
    select * from int.paid_after_event
    where event_kind = 'death'
)

select
    'deceased_paid' as check_code,
    person_id,
    case_no,
    period_start,
    period_end,
    overpaid_amount,
    0 as backpay_amount,
    link_confidence,
    evidence,
    case_key('deceased_paid', person_id) as case_key
from overpaid
