-- Runs once, when PostgreSQL initialises an empty data directory (a new volume).
-- It does not run again on later starts: remove the volume (docker compose down -v) to re-run it.
CREATE TABLE IF NOT EXISTS users (
    id    serial PRIMARY KEY,
    name  text NOT NULL,
    email text NOT NULL UNIQUE
);

INSERT INTO users (name, email) VALUES
    ('Ada Lovelace',    'ada@example.com'),
    ('Grace Hopper',    'grace@example.com'),
    ('Linus Torvalds',  'linus@example.com'),
    ('Margaret Hamilton', 'margaret@example.com')
ON CONFLICT (email) DO NOTHING;
