-- cross_deceased_paid 跨县死亡仍领取: what a county pays for months after a death recorded only in
-- another county: its register's 死亡, or its cremation record (on the person's number, or without
-- one on name, sex, age at death and address). The death month itself is paid correctly; later
-- months are recovered, for 低保金 the person's share (province.paid_after_event). A county that
-- itself knows the death raises it in its own deceased_paid.
with overpaid as (
    select * from province.paid_after_event
    where event_kind = 'death'
)

select
    'cross_deceased_paid' as check_code,
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
    cross_case_key('cross_deceased_paid', county, subject, other_county) as case_key
from overpaid
