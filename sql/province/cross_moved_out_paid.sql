-- cross_moved_out_paid 跨县迁出仍领取: what a county pays for months after another county's
-- register says the person moved out (迁出), when no county of the province, the payer included,
-- holds a 正常 record of them (nor a 死亡 one): they left the province. The move-out month itself
-- is paid correctly; later months are recovered (province.paid_after_event). A county that itself
-- knows the move raises it in its own moved_out_paid.
with overpaid as (
    select * from province.paid_after_event
    where event_kind = 'moved_out'
)

select
    'cross_moved_out_paid' as check_code,
    county,
    other_county,
    person_key(subject) as person_key,
    id_number,
    name,
    township,
    village,
    case_no,
    period_start,
    period_end,
    overpaid_amount,
    0 as backpay_amount,
    link_confidence,
    evidence,
    cross_case_key('cross_moved_out_paid', county, subject, other_county) as case_key
from overpaid
