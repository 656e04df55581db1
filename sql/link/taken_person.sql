-- taken_person: persons who already hold a certain row of a one-to-one source (a body is cremated
-- once, a person supported once): no other row of that source can be theirs.
select distinct settled.source, settled.person_id
from link.settled_row as settled
where settled.source in ('cremation', 'tekun')
