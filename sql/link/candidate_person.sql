-- candidate_person: everyone a row without a settled link may be — the register's persons and
-- the numbers no register person holds (someone the register does not know, cremated or paid here).
select * from link.register_person
union all
select * from link.outside_person
