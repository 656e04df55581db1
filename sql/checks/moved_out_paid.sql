-- moved_out_paid 迁出仍领取: benefit paid for months after the person moved out of the county.
-- Policy: as deceased_paid, with the register's 迁出 month as the event.
with overpaid as (
    select * from int.paid_after_event
    where event_kind = 'moved_out'
)

select
    'moved_out_paid' as check_code,
    person_id,
    case_no,
    period_start,
    period_end,
    overpaid_amount,
    0 as backpay_amount,
    link_confidence,
    evidence,
    case_key('moved_out_paid', person_id) as case_key
from overpaid
