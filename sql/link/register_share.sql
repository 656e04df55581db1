-- register_share: per source, the share of its rows with a well-formed number that a register
-- person holds — how likely a row of that source is to be about someone in the register at all
-- (nearly every ledger row is; about one body in twelve cremated here lived in another county).
select
    ids.source,
    avg(case when register.id_number is not null then 1.0 else 0.0 end) as share
from link.identity_row as ids
left join link.register_person as register
    on ids.id_number = register.id_number
where ids.id_number is not null
    and ids.role = 'subject'
    and ids.source <> 'household_register'
group by ids.source
