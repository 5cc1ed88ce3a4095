-- Runs once, the first time the server starts on an EMPTY data directory.
-- The postgres image skips /docker-entrypoint-initdb.d/ whenever PG_VERSION already exists
-- in the volume, so this file never runs again on a volume that holds a cluster.

CREATE TABLE items (
    id    serial PRIMARY KEY,
    sku   text    NOT NULL UNIQUE,
    name  text    NOT NULL,
    qty   integer NOT NULL DEFAULT 0 CHECK (qty >= 0)
);

INSERT INTO items (sku, name, qty) VALUES
    ('KB-001', 'Mechanical keyboard', 12),
    ('MS-002', 'Wireless mouse', 40),
    ('LIC-003', 'Editor licence', 5);

-- Bookkeeping that makes "the init script ran exactly once" observable:
-- one row per run of this script, with the server version that ran it.
CREATE TABLE init_log (
    id             serial PRIMARY KEY,
    script         text        NOT NULL,
    ran_at         timestamptz NOT NULL DEFAULT now(),
    server_version text        NOT NULL DEFAULT current_setting('server_version')
);
INSERT INTO init_log (script) VALUES ('01-schema.sql');

-- One row per run of the one-off `migrate` service (it inserts the row itself).
CREATE TABLE migration_runs (
    id     serial PRIMARY KEY,
    ran_at timestamptz NOT NULL DEFAULT now()
);
