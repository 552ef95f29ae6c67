"""The statement that judges and stores a batch of events (`events_ingest`): every check
of ADR 19's event contract done on the whole batch in PostgreSQL, then one
`INSERT … SELECT … ON CONFLICT (event_id) DO NOTHING`. Python sends the batch as one JSON
parameter and reads back one row; nothing is done per event in Python.

Each field is taken from the JSON only when it has the right JSON kind and shape (its
digits made zeros, compared with the shapes allowed: `translate`, where a regex with
bounded repeats cost about 0.1 ms a row and made a batch of 500 take seconds), so no
input can make a cast fail and the statement with it: a UUID hyphenated, as 32 bare hex
digits or in braces; a time as ISO 8601 with its offset, whose parts are checked (month,
day of that month, hour, minute, second, offset) before PostgreSQL reads it; `watch_ms` a
JSON integer. The CTEs that read the fields are MATERIALIZED: inlined, each use of a
field repeated its whole expression.
"""

from __future__ import annotations

from engagement.models import EngagementEvent
from videos.models import ProductTag, Video

# A UUID's forms that PostgreSQL reads: its digits made zeros must be one of these shapes
# (`translate` is much cheaper than a regex with bounded repeats, ~0.1 ms a row).
_ZEROS = "00000000-0000-0000-0000-000000000000"
_UUID_SHAPES = f"'{_ZEROS}', '{{{_ZEROS}}}', '{_ZEROS.replace('-', '')}'"
_DIGITS = "0123456789abcdefABCDEF"
# An ISO 8601 time with its offset, by shape (digits made zeros; `t`, `z` and a space as
# `T`, `Z`, `T`): the date and minute, then optional seconds and fraction, then the offset.
_TIME_HEAD = "0000-00-00T00:00"
TIME_TAILS = [
    seconds + offset
    for seconds in ["", ":00", *(":00." + "0" * digits for digits in range(1, 7))]
    for offset in ["Z", *(sign + hours for sign in "+-" for hours in ("00", "0000", "00:00"))]
]


def _uuid(field: str) -> str:
    text = f"(e->'{field}' #>> '{{}}')"
    return (
        f"CASE WHEN jsonb_typeof(e->'{field}') = 'string' AND length({text}) <= 38 "
        f"AND translate({text}, '{_DIGITS}', '{'0' * len(_DIGITS)}') IN ({_UUID_SHAPES}) "
        f"THEN {text}::uuid END"
    )


def _present(field: str) -> str:
    return f"(e ? '{field}' AND jsonb_typeof(e->'{field}') <> 'null')"


BATCH = f"""
WITH raw AS (
    SELECT idx - 1 AS idx, e, jsonb_typeof(e) = 'object' AS is_object
    FROM jsonb_array_elements(%(batch)s::jsonb -> 'events') WITH ORDINALITY AS batch(e, idx)
),
fields AS MATERIALIZED (  -- each field read once, not once per use
    SELECT idx, is_object,
        {_uuid("event_id")} AS event_id,
        CASE WHEN jsonb_typeof(e->'type') = 'string' AND (e->>'type') = ANY(%(types)s::text[])
            THEN e->>'type' END AS type,
        {_uuid("video_id")} AS video_id,
        {_uuid("tag_id")} AS tag_id, {_present("tag_id")} AS has_tag,
        {_uuid("product_id")} AS product_id, {_present("product_id")} AS has_product,
        CASE WHEN jsonb_typeof(e->'occurred_at') = 'string' AND length(e->>'occurred_at') <= 40
            THEN e->>'occurred_at' END AS ts,
        CASE WHEN jsonb_typeof(e->'watch_ms') = 'number' AND length(e->>'watch_ms') <= 9
            AND translate(e->>'watch_ms', '0123456789', '') = ''
            THEN (e->>'watch_ms')::integer END AS watch_ms,
        {_present("watch_ms")} AS has_watch
    FROM raw WHERE is_object
),
shaped AS MATERIALIZED (
    SELECT fields.*, translate(ts, '0123456789tz ', '0000000000TZT') AS shape FROM fields
),
timed AS MATERIALIZED (
    SELECT shaped.*,
        CASE WHEN left(shape, 16) = '{_TIME_HEAD}' AND substr(shape, 17) = ANY(%(time_tails)s)
            THEN CASE
                WHEN right(shape, 6) IN ('+00:00', '-00:00') THEN substr(ts, length(ts) - 4, 2)
                WHEN right(shape, 5) IN ('+0000', '-0000') THEN substr(ts, length(ts) - 3, 2)
                WHEN right(shape, 3) IN ('+00', '-00') THEN substr(ts, length(ts) - 1, 2)
                ELSE '00' END
        END AS offset_hours
    FROM shaped
),
parsed AS MATERIALIZED (
    -- Each part in its range before PostgreSQL reads the time (a cast that fails would
    -- fail the batch): what it would take but Python's ISO 8601 would not (24:00, a
    -- 60th second) and what it would refuse (30 February, an offset past 15 hours).
    SELECT timed.*,
        CASE WHEN offset_hours IS NOT NULL AND offset_hours::int <= 15
            AND substr(ts, 1, 4)::int >= 1 AND substr(ts, 6, 2)::int BETWEEN 1 AND 12
            AND substr(ts, 9, 2)::int BETWEEN 1 AND CASE substr(ts, 6, 2)::int
                WHEN 2 THEN CASE WHEN substr(ts, 1, 4)::int %% 4 = 0
                    AND (substr(ts, 1, 4)::int %% 100 <> 0 OR substr(ts, 1, 4)::int %% 400 = 0)
                    THEN 29 ELSE 28 END
                WHEN 4 THEN 30 WHEN 6 THEN 30 WHEN 9 THEN 30 WHEN 11 THEN 30 ELSE 31 END
            AND substr(ts, 12, 2)::int <= 23 AND substr(ts, 15, 2)::int <= 59
            AND (substr(shape, 17, 1) <> ':' OR substr(ts, 18, 2)::int <= 59)
        THEN translate(ts, 'tz ', 'TZT')::timestamptz END AS occurred_at
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
