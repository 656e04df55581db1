-- name_frequency: how common each name is among candidate persons. Two records agreeing on 王伟 is
-- weaker evidence than agreeing on 卓玛: an exact name agreement weighs by this share (its u).
select name, count(*) / (select count(*) from link.candidate_person) as share
from link.candidate_person
where name is not null
group by name
