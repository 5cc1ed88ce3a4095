-- The learner's own seed: other items than the book's, with the book's bookkeeping tables
-- (init_log, migration_runs) that the lab's checks read.
CREATE TABLE items (
    id    serial PRIMARY KEY,
    sku   text    NOT NULL UNIQUE,
    name  text    NOT NULL,
    qty   integer NOT NULL DEFAULT 0
);

INSERT INTO items (sku, name, qty) VALUES
    ('CAB-10', 'USB-C cable', 120),
    ('MON-27', '27-inch monitor', 8);

CREATE TABLE init_log (
    id     serial PRIMARY KEY,
    script text        NOT NULL,
    ran_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO init_log (script) VALUES ('01-seed.sql');

CREATE TABLE migration_runs (
    id     serial PRIMARY KEY,
    ran_at timestamptz NOT NULL DEFAULT now()
);
