-- The non-idempotent version of migration 001 used by faults/migration-not-idempotent.yml.
-- Each statement "works" on the first run; the second run duplicates every category.
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS categories (
    id   serial PRIMARY KEY,
    name text NOT NULL
);

INSERT INTO categories (name) VALUES ('hardware'), ('software'), ('services');

ALTER TABLE items ADD COLUMN IF NOT EXISTS category_id integer REFERENCES categories (id);

INSERT INTO schema_migrations (version) VALUES ('001') ON CONFLICT (version) DO NOTHING;
