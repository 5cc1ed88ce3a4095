-- Migration 001: categories for items.
-- It works the FIRST time. Make it safe to run again and again (the lab runs it twice):
-- TODO: a second run must not fail on objects that already exist.
-- TODO: a second run must not insert the three categories again (hint: a UNIQUE column and
--       ON CONFLICT ... DO NOTHING).
-- TODO: the backfill must not overwrite a category someone changed since the first run.

CREATE TABLE schema_migrations (
    version    text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE categories (
    id   serial PRIMARY KEY,
    name text NOT NULL
);

INSERT INTO categories (name) VALUES ('hardware'), ('software'), ('services');

ALTER TABLE items ADD COLUMN category_id integer REFERENCES categories (id);

UPDATE items SET category_id = (SELECT id FROM categories WHERE name = 'hardware' LIMIT 1)
WHERE sku IN ('KB-001', 'MS-002');
UPDATE items SET category_id = (SELECT id FROM categories WHERE name = 'software' LIMIT 1)
WHERE sku = 'LIC-003';

INSERT INTO schema_migrations (version) VALUES ('001');
