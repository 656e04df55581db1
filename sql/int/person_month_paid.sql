-- person_month_paid: each ledger line of the window, split onto the people it pays for.
-- Policy: the beneficiaries of a line are its payee, except 低保金, which is paid
-- to the household head for the case's covered members: each covered member
-- carries amount / covered count (so the shares of a line add up to the line). Members are
-- memberships (int.dibao_member): a member listed twice is one member.
with ledger_lines as (
    select
        source_row as ledger_row,
        paid_month,
        programme,
        case_no,
        amount
    from stg.payments
    where paid_month between $window_start_month and $as_of_month
),

covered_members as (
    -- memberships, not roster rows: a member listed twice on a case is paid one share
    select case_no, roster_row, person_id, confidence
    from int.dibao_member
    where is_covered
),

covered_counts as (
    select case_no, count(*) as covered_count
    from covered_members
    group by case_no
),

dibao_shares as (
    select
        lines.ledger_row,
        lines.paid_month,
        lines.programme,
        lines.case_no,
        members.person_id,
        exact_yuan(cast(lines.amount as double) / counts.covered_count) as amount,
        lines.amount as line_amount,
        counts.covered_count,
        members.roster_row,
        members.confidence as link_confidence
    from ledger_lines as lines
    inner join covered_counts as counts
        on lines.case_no = counts.case_no
    inner join covered_members as members
        on lines.case_no = members.case_no
    where lines.programme = 'dibao'
        and members.person_id is not null
),

payee_lines as (
    -- every other programme pays the payee; so does a 低保金 line whose case is not on the roster
    select
        lines.ledger_row,
        lines.paid_month,
        lines.programme,
        lines.case_no,
        payee.person_id,
        exact_yuan(lines.amount) as amount,
        lines.amount as line_amount,
        1 as covered_count,
        cast(null as integer) as roster_row,
        payee.confidence as link_confidence
    from ledger_lines as lines
    -- the payee's link only here: a 低保金 line is split by the roster, whoever received it
    inner join link.person_record as payee
        on payee.source = 'payments'
        and payee.source_row = lines.ledger_row
        and payee.role = 'subject'
    left join covered_counts as counts
        on lines.case_no = counts.case_no
    where payee.person_id is not null
        and (lines.programme <> 'dibao' or counts.case_no is null)
)

select * from dibao_shares
union all
select * from payee_lines
