-- register_share: per source, the share of its rows with a well-formed number that a register
-- person holds — how likely a row of that source is to be about someone in the register at all
-- (nearly every ledger row is; about one body in twelve cremated here lived in another county).
-- Counted from the certain links and the numbers no register person holds.
with numbered as (
    select source, 1.0 as in_register from link.exact where role = 'subject'
    union all
    select source, 0.0 from link.unsettled_row where role = 'subject' and id_number is not null
)

select source, avg(in_register) as share
from numbered
where source <> 'household_register'
group by source
