-- repaired: rows whose number fails its check, one typing slip from exactly one register person
-- whose name, sex and birth date agree (link.number_repair). Nearly certain, but a slip can be
-- undone wrongly, so not quite 1.
select
    repair.source,
    repair.source_row,
    repair.role,
    repair.person_id,
    'repaired' as method,
    0.99 as confidence,
    repair.explanation
from link.number_repair as repair
where repair.status = 'repaired'
