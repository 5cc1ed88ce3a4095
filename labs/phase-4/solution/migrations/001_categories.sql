-- Migration 001: categories for items.
-- Written to be idempotent: running it a second (or tenth) time changes nothing.
--   CREATE ... IF NOT EXISTS        instead of CREATE (which fails the second time)
--   INSERT ... ON CONFLICT DO NOTHING  instead of a plain INSERT (which duplicates rows)
--   ADD COLUMN IF NOT EXISTS        instead of ADD COLUMN
--   UPDATE ... WHERE col IS NULL    so a backfill never overwrites later edits
-- The migrate service runs it with psql --single-transaction and ON_ERROR_STOP, so a
-- failure leaves the database exactly as it was.

CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS categories (
    id   serial PRIMARY KEY,
    name text NOT NULL UNIQUE
);

INSERT INTO categories (name) VALUES ('hardware'), ('software'), ('services')
ON CONFLICT (name) DO NOTHING;

ALTER TABLE items ADD COLUMN IF NOT EXISTS category_id integer REFERENCES categories (id);

UPDATE items SET category_id = (SELECT id FROM categories WHERE name = 'hardware')
WHERE category_id IS NULL AND sku IN ('KB-001', 'MS-002');
UPDATE items SET category_id = (SELECT id FROM categories WHERE name = 'software')
WHERE category_id IS NULL AND sku = 'LIC-003';

INSERT INTO schema_migrations (version) VALUES ('001') ON CONFLICT (version) DO NOTHING;
