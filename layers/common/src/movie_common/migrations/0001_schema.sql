-- Marquee schema: catalogue, plans, users, API keys (hashed), usage logs partitioned by month plus a daily rollup.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS citext;

-- unaccent() is only STABLE (its dictionary could change); indexes need an IMMUTABLE wrapper with the
-- dictionary named explicitly. Normalised text: unaccented, lower case, single spaces, trimmed.
CREATE OR REPLACE FUNCTION marquee_normalize(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN btrim(regexp_replace(lower(unaccent('unaccent'::regdictionary, value)), '\s+', ' ', 'g'));

CREATE OR REPLACE FUNCTION marquee_normalize_array(value text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN ARRAY(SELECT marquee_normalize(v) FROM unnest(value) AS v);

CREATE OR REPLACE FUNCTION marquee_join(value text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(array_to_string(value, ' | '), '');

-- Plans: editable by admins. NULL daily_quota means no daily cap. gateway_tier picks the API Gateway usage plan.
CREATE TABLE plans (
    id           text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_-]{1,31}$'),
    name         text NOT NULL,
    daily_quota  integer CHECK (daily_quota IS NULL OR daily_quota >= 0),
    per_minute   integer NOT NULL CHECK (per_minute > 0),
    gateway_tier text NOT NULL CHECK (gateway_tier IN ('free', 'pro', 'unlimited')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO plans (id, name, daily_quota, per_minute, gateway_tier) VALUES
    ('free', 'Free', 100, 30, 'free'),
    ('pro', 'Pro', 50000, 600, 'pro'),
    ('unlimited', 'Unlimited', NULL, 3000, 'unlimited');

CREATE TABLE users (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text NOT NULL,
    email           citext NOT NULL,
    canonical_email text NOT NULL UNIQUE,
    hashed_password text,          -- bcrypt; NULL until the developer sets one (accounts made from the CLI)
    verified        boolean NOT NULL DEFAULT false,
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          bytea NOT NULL UNIQUE CHECK (octet_length(key) = 32),   -- SHA-256 of the raw UUIDv4
    last4        text NOT NULL,
    plan         text NOT NULL REFERENCES plans (id) ON UPDATE CASCADE,
    status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'revoked')),
    usage_count  integer NOT NULL DEFAULT 0,       -- requests admitted during usage_day (UTC)
    usage_day    date NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')::date,
    minute_count integer NOT NULL DEFAULT 0,       -- requests admitted during the minute starting minute_start
    minute_start timestamptz NOT NULL DEFAULT date_trunc('minute', now()),
    total_count  bigint NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    last_used_at timestamptz
);
CREATE INDEX api_keys_owner_idx ON api_keys (owner_id);

-- Every keyed request, admitted or refused. Monthly partitions keep hundreds of millions of rows manageable
-- (old months are dropped or detached whole); the default partition catches anything outside them.
CREATE TABLE usage_logs (
    id          bigserial,
    api_key_id  bigint NOT NULL,
    endpoint    text NOT NULL,          -- the route template, e.g. /movies/{id}
    status      smallint NOT NULL,
    "timestamp" timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, "timestamp")
) PARTITION BY RANGE ("timestamp");
CREATE TABLE usage_logs_default PARTITION OF usage_logs DEFAULT;
CREATE INDEX usage_logs_key_time_idx ON usage_logs (api_key_id, "timestamp" DESC);
CREATE INDEX usage_logs_time_idx ON usage_logs USING brin ("timestamp");

CREATE OR REPLACE FUNCTION marquee_ensure_usage_partitions(months_ahead integer DEFAULT 2) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    month_start date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
    created integer := 0;
    part text;
BEGIN
    FOR i IN 0..months_ahead LOOP
        part := format('usage_logs_%s', to_char(month_start + make_interval(months => i), 'YYYY_MM'));
        IF to_regclass(part) IS NULL THEN
            -- Rows already caught by the default partition for that month would block the new one: leave it.
            IF NOT EXISTS (
                SELECT 1 FROM usage_logs_default
                WHERE "timestamp" >= (month_start + make_interval(months => i)) AT TIME ZONE 'UTC'
                  AND "timestamp" < (month_start + make_interval(months => i + 1)) AT TIME ZONE 'UTC'
            ) THEN
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF usage_logs FOR VALUES FROM (%L) TO (%L)', part,
                    (month_start + make_interval(months => i))::timestamp AT TIME ZONE 'UTC',
                    (month_start + make_interval(months => i + 1))::timestamp AT TIME ZONE 'UTC');
                created := created + 1;
            END IF;
        END IF;
    END LOOP;
    RETURN created;
END $$;
SELECT marquee_ensure_usage_partitions(2);

-- Daily rollup per key and endpoint, maintained by the same statement that admits a request: graphs read this.
CREATE TABLE usage_daily (
    api_key_id bigint NOT NULL,
    day        date NOT NULL,
    endpoint   text NOT NULL,
    requests   integer NOT NULL DEFAULT 0,   -- admitted (counted against the quota)
    rejected   integer NOT NULL DEFAULT 0,   -- refused by a limit or a key status
    PRIMARY KEY (api_key_id, day, endpoint)
);
CREATE INDEX usage_daily_day_idx ON usage_daily (day);

CREATE TABLE movies (
    id           bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    title        text NOT NULL CHECK (btrim(title) <> ''),
    year         smallint CHECK (year BETWEEN 1870 AND 2100),
    genre        text[] NOT NULL DEFAULT '{}',
    director     text,
    actors       text[] NOT NULL DEFAULT '{}',
    plot         text,
    poster_url   text,
    media_type   text NOT NULL DEFAULT 'movie' CHECK (media_type IN ('movie', 'tv')),
    release_date date,
    runtime      smallint CHECK (runtime > 0),
    rating       numeric(3, 1) CHECK (rating BETWEEN 0 AND 10),
    popularity   real NOT NULL DEFAULT 0,
    tmdb_id      integer UNIQUE,
    imdb_id      text,
    source       text NOT NULL DEFAULT 'csv' CHECK (source IN ('csv', 'tmdb', 'admin')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    -- Derived columns the search paths index.
    title_norm    text GENERATED ALWAYS AS (marquee_normalize(title)) STORED,
    genre_keys    text[] GENERATED ALWAYS AS (marquee_normalize_array(genre)) STORED,
    director_norm text GENERATED ALWAYS AS (marquee_normalize(director)) STORED,
    actors_norm   text GENERATED ALWAYS AS (marquee_normalize(marquee_join(actors))) STORED,
    search_doc    tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('simple', coalesce(director, '') || ' ' || marquee_join(actors)), 'B')
        || setweight(to_tsvector('english', coalesce(plot, '')), 'C')
    ) STORED,
    CONSTRAINT movies_title_year_key UNIQUE NULLS NOT DISTINCT (title_norm, year)
);
CREATE INDEX movies_title_trgm_idx ON movies USING gin (title_norm gin_trgm_ops);
CREATE INDEX movies_title_prefix_idx ON movies (title_norm text_pattern_ops);
CREATE INDEX movies_year_idx ON movies (year, id);
CREATE INDEX movies_popularity_idx ON movies (popularity DESC, id);
CREATE INDEX movies_genre_idx ON movies USING gin (genre_keys);
CREATE INDEX movies_director_trgm_idx ON movies USING gin (director_norm gin_trgm_ops);
CREATE INDEX movies_actors_trgm_idx ON movies USING gin (actors_norm gin_trgm_ops);
CREATE INDEX movies_search_idx ON movies USING gin (search_doc);
CREATE INDEX movies_media_type_idx ON movies (media_type, popularity DESC, id);
