-- Runs once, on the first start with an empty data volume.
CREATE TABLE tasks (
    id         serial PRIMARY KEY,
    title      text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    status     text        NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'doing', 'done')),
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO tasks (title, status) VALUES
    ('Draw the two networks', 'done'),
    ('Move the password into a secret file', 'doing'),
    ('Prove nginx cannot reach PostgreSQL', 'todo');
