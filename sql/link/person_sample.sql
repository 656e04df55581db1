-- person_sample: about 100,000 candidate persons drawn at random, for u (how often two different
-- people agree by chance). Person ids are keyed hashes ('P' and hex digits), so those whose first two
-- hex digits fall below a cut are a random sample, found without sorting a million ids; a county of
-- fewer persons gives them all.
with cut as (
    select ceil(256 * 100000 / greatest(count(*), 1)) as below
    from link.person_feature
)

select person.*
from link.person_feature as person
cross join cut
where ('0x' || substr(person.person_id, 2, 2))::integer < cut.below
