-- export_event: the deaths and move-outs a county records, for the cross-county checks: its
-- register's rows with 人员状态 死亡 or 迁出, and every cremation record (a body cremated here may
-- be another county's person; the county's own linker leaves it unlinked when its 户籍地址 lies
-- elsewhere). Numbers are as staged: normalized, null unless valid (an upgraded 15-digit number
-- is its 18-digit form). Run against a county's run database (read-only); province/store.py adds
-- the county, the name's pinyin and the export's id.
with register_rows as (
    select * from stg.household_register
    where person_status in ('dead', 'moved_out')
),

cremation_rows as (
    select * from stg.cremation
),

register_events as (
    select
        'household_register' as source,
        source_row,
        cast(null as varchar) as record_no,
        id_number,
        name,
        sex,
        birth_date,
        cast(null as integer) as age_at_death,
        case person_status when 'dead' then 'death' else 'moved_out' end as event_kind,
        change_date as event_date,
        township,
        village,
        cast(null as varchar) as address,
        cast(null as varchar) as funeral_home
    from register_rows
),

cremation_events as (
    select
        'cremation' as source,
        source_row,
        record_no,
        id_number,
        name,
        sex,
        cast(null as date) as birth_date,
        age_at_death,
        'death' as event_kind,
        death_date as event_date,
        cast(null as varchar) as township,
        cast(null as varchar) as village,
        address,
        funeral_home
    from cremation_rows
)

select
    *,
    cast(date_trunc('month', event_date) as date) as event_month
from (
    select * from register_events
    union all
    select * from cremation_events
)
