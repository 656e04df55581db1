-- exact: rows whose well-formed citizen number (as written, or a 15-digit one upgraded to 18)
-- is a register person's. The only links made on the number alone.
select
    ids.source,
    ids.source_row,
    ids.role,
    register.person_id,
    case ids.id_number_status when 'valid' then 'exact' else 'upgraded' end as method,
    1.0 as confidence,
    case ids.id_number_status when 'valid' then '身份证号一致' else '15位身份证号升位后一致' end as explanation
from link.identity_row as ids
inner join link.register_person as register
    on ids.id_number = register.id_number
where ids.id_number_status in ('valid', 'upgraded')
