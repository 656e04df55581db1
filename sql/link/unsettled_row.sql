-- unsettled_row: identity rows no certain link settled — no number, a number that fails its
-- check and no slip undoes, or a well-formed number no register person holds. Read off the
-- small tables (repaired, outside_person), so the millions of settled rows are never joined.
select ids.*
from link.identity_row as ids
where (
        ids.id_number is null
        and not exists (
            select 1 from link.repaired as repaired
            where repaired.source = ids.source and repaired.source_row = ids.source_row and repaired.role = ids.role
        )
    )
    or ids.id_number in (select id_number from link.outside_person)
