-- line_after_event: every line a county pays after an event another county records on the person's
-- number (or a cremation record tied to them without one), before names are compared: the join of
-- the whole ledger with every event, on the number alone. Each event is kept as its county, row and
-- kind only: the side hashed stays narrow while the ledger's tens of millions of lines probe it, and
-- as a table of its own the next step's planner knows how few lines it holds (province.paid_event
-- compares the names and picks each line's event).
-- Policy: is_after_event (the event month itself is paid correctly); a move-out counts only when no
-- county holds a 正常 or 死亡 record of the number; a county that itself knows the person died or
-- moved out raises what it paid in its own checks: left out here.
with numbered_events as (
    -- deaths on a valid number, and move-outs on one no county holds a 正常 or 死亡 record of;
    -- the record itself kept as its county, row and kind only (a narrow side to hash, the ledger's
    -- tens of millions of lines probing it)
    select
        id_number as match_key,
        cast(null as varchar) as paying_county,
        county as event_county,
        source_row as event_row,
        source = 'cremation' as is_cremation,
        false as is_moved_out,
        event_month
    from province.event
    where id_number is not null
        and event_month is not null
        and event_kind = 'death'
    union all
    select
        moved.id_number as match_key,
        cast(null as varchar) as paying_county,
        moved.county as event_county,
        moved.source_row as event_row,
        moved.source = 'cremation' as is_cremation,
        true as is_moved_out,
        moved.event_month
    from province.event as moved
    anti join (
        select id_number from province.register
        where person_status in ('normal', 'dead')
    ) as settled
        on moved.id_number = settled.id_number
    where moved.id_number is not null
        and moved.event_month is not null
        and moved.event_kind = 'moved_out'
),

unnumbered_events as (
    -- a cremation record tied to a person with a number: keyed by it, for the county that pays them
    select
        id_number as match_key,
        county as paying_county,
        event_county,
        source_row as event_row,
        true as is_cremation,
        false as is_moved_out,
        event_month
    from province.unnumbered_match
    where id_number is not null
),

lines_after_event as (
    select
        paid.county,
        paid.person_id,
        paid.id_number,
        paid.name,
        paid.pinyin,
        paid.township,
        paid.village,
        paid.paid_month,
        paid.programme,
        paid.programme_label,
        paid.case_no,
        paid.amount,
        paid.covered_count,
        paid.ledger_row,
        paid.link_confidence,
        events.paying_county,
        events.event_county,
        events.event_row,
        events.is_cremation,
        events.is_moved_out,
        events.event_month
    from province.paid as paid
    inner join (
        select * from numbered_events
        union all
        select * from unnumbered_events
    ) as events
        on paid.id_number = events.match_key
    where paid.death_month is null
        and paid.move_out_month is null
        and events.event_county <> paid.county
        and coalesce(events.paying_county = paid.county, true)
        and is_after_event(paid.paid_month, events.event_month)
    union all
    -- a cremation record tied to a person without a number (the paying county's own person id)
    select
        paid.county,
        paid.person_id,
        paid.id_number,
        paid.name,
        paid.pinyin,
        paid.township,
        paid.village,
        paid.paid_month,
        paid.programme,
        paid.programme_label,
        paid.case_no,
        paid.amount,
        paid.covered_count,
        paid.ledger_row,
        paid.link_confidence,
        matches.county as paying_county,
        matches.event_county,
        matches.source_row as event_row,
        true as is_cremation,
        false as is_moved_out,
        matches.event_month
    from province.paid as paid
    inner join province.unnumbered_match as matches
        on paid.county = matches.county
        and paid.person_id = matches.person_id
    where paid.id_number is null
        and matches.id_number is null
        and paid.death_month is null
        and paid.move_out_month is null
        and is_after_event(paid.paid_month, matches.event_month)
)

select * from lines_after_event
