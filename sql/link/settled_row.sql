-- settled_row: rows linked with certainty before any scoring — an exact or upgraded number of a
-- register person, or a number repaired to one.
select * from link.exact
union all
select * from link.repaired
