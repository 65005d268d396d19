-- Branches: a story forked from another starts with its turns up to `at_slot` (copied), its
-- settings, characters and lore; this row links the fork to where it came from, both ways.
CREATE TABLE story_forks (
    story_id   INTEGER PRIMARY KEY REFERENCES stories (id) ON DELETE CASCADE,
    parent_id  INTEGER REFERENCES stories (id) ON DELETE SET NULL,
    at_slot    INTEGER NOT NULL CHECK (at_slot >= 0),
    created_by INTEGER NOT NULL,
    created_at REAL    NOT NULL
);

CREATE INDEX story_forks_by_parent ON story_forks (parent_id) WHERE parent_id IS NOT NULL;
