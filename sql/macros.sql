-- Expressions more than one SQL file needs. Loaded once per run database.

-- A finding's identity across runs: the check and its subject, never row
-- numbers or run ids, so the same problem keeps its key night after night.
create or replace macro case_key(check_code, subject) as
    substr(md5(check_code || '|' || subject), 1, 16);

-- Months as inspectors read them.
create or replace macro month_text(month) as strftime(month, '%Y-%m');

-- Yuan with two decimals, for evidence text.
create or replace macro yuan_text(amount) as format('{:.2f}', cast(amount as double));
