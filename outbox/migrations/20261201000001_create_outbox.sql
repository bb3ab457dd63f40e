-- The transactional outbox of openedx-events: one row per event and topic, in the wire form
-- (topic, key, Avro bytes, metadata header values), so that a relay needs nothing else.
CREATE TABLE openedx_events_outbox (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The writing transaction: the relay reads only rows below the oldest running transaction
    -- (pg_snapshot_xmin), in (xact_id, id) order, so no row is skipped or reordered by
    -- transactions that commit out of id order.
    xact_id         xid8        NOT NULL DEFAULT pg_current_xact_id(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    topic           text        NOT NULL,
    event_type      text        NOT NULL,
    event_id        uuid        NOT NULL,
    event_key_field text,
    -- The key as text, and its Avro type (string, long, boolean, double).
    event_key       text,
    event_key_type  text,
    -- The metadata header values by their stream entry names (type, id, source, time, ...).
    headers         jsonb       NOT NULL,
    event_data      bytea       NOT NULL,
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text,
    next_attempt_at timestamptz,
    parked          boolean     NOT NULL DEFAULT false,
    published_at    timestamptz
);

CREATE INDEX openedx_events_outbox_pending
    ON openedx_events_outbox (topic, xact_id, id)
    WHERE NOT parked AND published_at IS NULL;

CREATE INDEX openedx_events_outbox_published
    ON openedx_events_outbox (published_at)
    WHERE published_at IS NOT NULL;

-- The keys waiting for a retry, which the relay skips.
CREATE INDEX openedx_events_outbox_retrying
    ON openedx_events_outbox (topic, event_key)
    WHERE next_attempt_at IS NOT NULL AND NOT parked AND published_at IS NULL;
