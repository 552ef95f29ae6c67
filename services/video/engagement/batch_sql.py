"""The statement that judges and stores a batch of events (`events_ingest`): every check
of ADR 19's event contract done on the whole batch in PostgreSQL, then one
`INSERT … SELECT … ON CONFLICT (event_id) DO NOTHING`. Python sends the batch as one JSON
parameter and reads back one row; nothing is done per event in Python.

Each field is taken from the JSON only when it has the right JSON kind and form (a regex
guards every cast, so no input can make a cast fail and the statement with it): a UUID in
any form PostgreSQL reads (hyphenated, bare 32 hex digits, in braces), a time as ISO 8601
with its offset, whose parts are checked (month, day of that month, hour, minute, second)
before it is built, and `watch_ms` a JSON integer.
"""

from __future__ import annotations

from engagement.models import EngagementEvent
from videos.models import ProductTag, Video

_HEX = "[0-9a-fA-F]"
_UUID_RE = f"^({_HEX}{{8}}-?({_HEX}{{4}}-?){{3}}{_HEX}{{12}}|\\{{{_HEX}{{8}}-?({_HEX}{{4}}-?){{3}}{_HEX}{{12}}\\}})$"
# year, month, day, hour, minute, [second, [fraction]], Z or ±HH[[:]MM]
TIME_RE = (
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?"
    r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$"
)


def _uuid(field: str) -> str:
    value = f"e->'{field}'"
    return (
        f"CASE WHEN jsonb_typeof({value}) = 'string' AND ({value} #>> '{{}}') ~ '{_UUID_RE}' "
        f"THEN ({value} #>> '{{}}')::uuid END"
    )


def _present(field: str) -> str:
    return f"(e ? '{field}' AND jsonb_typeof(e->'{field}') <> 'null')"


BATCH = f"""
WITH raw AS (
    SELECT idx - 1 AS idx, e, jsonb_typeof(e) = 'object' AS is_object
    FROM jsonb_array_elements(%(events)s::jsonb) WITH ORDINALITY AS batch(e, idx)
),
fields AS (
    SELECT idx, is_object,
        {_uuid("event_id")} AS event_id,
        CASE WHEN jsonb_typeof(e->'type') = 'string' AND (e->>'type') = ANY(%(types)s::text[])
            THEN e->>'type' END AS type,
        {_uuid("video_id")} AS video_id,
        {_uuid("tag_id")} AS tag_id, {_present("tag_id")} AS has_tag,
        {_uuid("product_id")} AS product_id, {_present("product_id")} AS has_product,
        CASE WHEN jsonb_typeof(e->'occurred_at') = 'string'
            THEN regexp_match(e->>'occurred_at', %(time_re)s) END AS t,
        CASE WHEN jsonb_typeof(e->'watch_ms') = 'number' AND (e->>'watch_ms') ~ '^[0-9]{{1,9}}$'
            THEN (e->>'watch_ms')::integer END AS watch_ms,
        {_present("watch_ms")} AS has_watch
    FROM raw WHERE is_object
),
timed AS (
    SELECT fields.*,
        t IS NOT NULL AND t[1]::int >= 1 AND t[2]::int BETWEEN 1 AND 12
        AND t[3]::int BETWEEN 1 AND extract(
            day FROM make_date(t[1]::int, t[2]::int, 1) + interval '1 month' - interval '1 day')
        AND t[4]::int <= 23 AND t[5]::int <= 59 AND coalesce(t[6], '0')::int <= 59
        AND coalesce(t[10], '0')::int <= 23 AND coalesce(t[11], '0')::int <= 59 AS time_ok
    FROM fields
),
parsed AS (
    SELECT timed.*,
        CASE WHEN time_ok THEN
            (make_timestamp(t[1]::int, t[2]::int, t[3]::int, t[4]::int, t[5]::int,
                            (coalesce(t[6], '0') || '.' || coalesce(t[7], '0'))::double precision)
             - CASE WHEN t[8] IS NOT NULL THEN interval '0'
                    ELSE (CASE t[9] WHEN '-' THEN -1 ELSE 1 END)
                         * make_interval(hours => t[10]::int, mins => coalesce(t[11], '0')::int)
               END) AT TIME ZONE 'UTC'
        END AS occurred_at
    FROM timed
),
checked AS (
    SELECT parsed.idx, parsed.event_id, parsed.type, parsed.video_id, parsed.tag_id,
        coalesce(parsed.product_id, tag.product_id) AS product_id, parsed.occurred_at,
        parsed.watch_ms,
        CASE
            WHEN parsed.event_id IS NULL THEN 'invalid_event_id'
            WHEN parsed.type IS NULL THEN 'invalid_type'
            WHEN parsed.video_id IS NULL THEN 'invalid_video_id'
            WHEN (has_tag AND parsed.tag_id IS NULL)
                OR (has_product AND parsed.product_id IS NULL) THEN 'invalid_id'
            WHEN parsed.occurred_at IS NULL THEN 'invalid_occurred_at'
            WHEN parsed.occurred_at < %(oldest)s THEN 'too_old'
            WHEN parsed.occurred_at > %(latest)s THEN 'in_the_future'
            WHEN has_watch AND (parsed.watch_ms IS NULL OR parsed.watch_ms > %(max_watch)s)
                THEN 'invalid_watch_ms'
            WHEN parsed.type = 'view' AND coalesce(parsed.watch_ms, 0) < %(min_view)s
                THEN 'view_too_short'
            WHEN video.id IS NULL THEN 'unknown_video'
            WHEN parsed.tag_id IS NOT NULL AND tag.video_id IS DISTINCT FROM parsed.video_id
                THEN 'unknown_tag'
        END AS code
    FROM parsed
    LEFT JOIN {Video._meta.db_table} video
        ON video.id = parsed.video_id AND video.status = %(published)s
    LEFT JOIN {ProductTag._meta.db_table} tag ON tag.id = parsed.tag_id
),
rejected AS (
    SELECT idx, 'invalid' AS code FROM raw WHERE NOT is_object
    UNION ALL SELECT idx, code FROM checked WHERE code IS NOT NULL
),
valid AS (  -- the first of each event id in the batch; a later one is a duplicate
    SELECT DISTINCT ON (event_id) * FROM checked WHERE code IS NULL ORDER BY event_id, idx
),
inserted AS (
    INSERT INTO {EngagementEvent._meta.db_table}
        (event_id, user_id, type, video_id, tag_id, product_id, occurred_at, watch_ms,
         received_at)
    SELECT event_id, %(user_id)s, type, video_id, tag_id, product_id, occurred_at, watch_ms,
        now()
    FROM valid ORDER BY idx
    ON CONFLICT (event_id) DO NOTHING
    RETURNING 1
)
SELECT
    (SELECT count(*) FROM inserted) AS accepted,
    (SELECT count(*) FROM checked WHERE code IS NULL) AS valid,
    (SELECT coalesce(jsonb_agg(jsonb_build_object('index', idx, 'code', code) ORDER BY idx),
                     '[]'::jsonb) FROM rejected) AS rejected,
    (SELECT array_agg(video_id ORDER BY idx) FROM valid WHERE type IN ('like', 'unlike')),
    (SELECT array_agg(type ORDER BY idx) FROM valid WHERE type IN ('like', 'unlike')),
    (SELECT array_agg(occurred_at ORDER BY idx) FROM valid WHERE type IN ('like', 'unlike'))
"""
