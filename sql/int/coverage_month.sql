-- coverage_month: each window month in which a roster covers a person — dibao (a 是 row
-- of a case covering the month) or tekun (supported that month).
-- Policy: dibao covers 保障开始年月 .. 停保年月 (or as_of); tekun 开始年月 .. 终止年月 (or as_of).
with coverage as (
    select 'dibao' as programme, person_id, case_no, start_month, end_month, roster_row, confidence, explanation
    from int.dibao_member
    where is_covered
        and person_id is not null
    union all
    select 'tekun' as programme, person_id, case_no, start_month, end_month, roster_row, confidence, explanation
    from int.tekun_member
    where person_id is not null
)

select coverage.*, window_month.month
from coverage
inner join int.window_month as window_month
    on month_in(window_month.month, coverage.start_month, coverage.end_month)
