-- The learner's own table and rows (the app reads id, title, status, created_at).
CREATE TABLE tasks (
    id         serial PRIMARY KEY,
    title      text NOT NULL,
    status     text NOT NULL DEFAULT 'todo',
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO tasks (title) VALUES ('Write my own compose file'), ('Ask labcheck');
