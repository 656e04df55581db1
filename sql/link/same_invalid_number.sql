-- same_invalid_number: rows whose number fails its check, that no slip undoes and the probabilistic
-- layer left unlinked: someone the register does not know (an identity anomaly). Rows with the same
-- written number and name — a payee's monthly lines, their roster row — are one such person; the
-- link is not to a register person, so it is not a fact (confidence 0.9).
select
    repair.source,
    repair.source_row,
    repair.role,
    person_id_of(repair.id_number_clean || '|' || ids.name) as person_id,
    repair.id_number_clean,
    ids.name, ids.sex, ids.birth_date, ids.household_no, ids.township, ids.village,
    ids.source_rank
from link.number_repair as repair
inner join link.identity_row as ids
    on repair.source = ids.source
    and repair.source_row = ids.source_row
    and repair.role = ids.role
left join link.probabilistic_row as linked
    on repair.source = linked.source
    and repair.source_row = linked.source_row
    and repair.role = linked.role
    and linked.decision in ('linked', 'linked_to_confirm')
where repair.status in ('no_candidate', 'not_18')
    and ids.name is not null
    and linked.person_id is null
