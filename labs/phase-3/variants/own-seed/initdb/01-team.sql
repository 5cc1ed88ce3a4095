-- The learner's own seed: the same table the app reads, with two rows of their own.
CREATE TABLE users (
    id    SERIAL PRIMARY KEY,
    name  VARCHAR(100) NOT NULL,
    email VARCHAR(200) NOT NULL UNIQUE
);

INSERT INTO users (name, email) VALUES
    ('Alice Example', 'alice@example.org'),
    ('Bob Example',   'bob@example.org');
