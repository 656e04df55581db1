-- poor_member: each registered-poor roster row with its person, its household head and how
-- many members that system lists for the household.
-- Policy: the registered-poor roster is a second view of the family (its members,
-- 家庭人口数, and the 兜底保障 it believes the household receives).
with roster as (
    select
        poor.source_row as roster_row,
        poor.poor_household_no,
        poor.safety_net,
        poor.relation,
        poor.name,
        poor.head_name,
        poor.head_id_number,
        poor.household_size,
        poor.township,
        poor.village,
        member.person_id,
        member.confidence,
        head.person_id as head_person_id,
        head.confidence as head_confidence
    from stg.registered_poor as poor
    left join link.person_record as member
        on member.source = 'registered_poor'
        and member.source_row = poor.source_row
        and member.role = 'subject'
    left join link.person_record as head
        on head.source = 'registered_poor'
        and head.source_row = poor.source_row
        and head.role = 'head'
)

select
    *,
    count(*) over (partition by poor_household_no) as listed_members
from roster
