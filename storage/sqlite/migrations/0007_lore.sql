-- Story memory: one short note per story that every model turn reads.
CREATE TABLE story_memory (
    story_id   INTEGER PRIMARY KEY REFERENCES stories (id) ON DELETE CASCADE,
    text       TEXT    NOT NULL,
    updated_at REAL    NOT NULL
);

-- Lore entries of a guild (story_id NULL) or of one story: text the model reads when one of
-- its keys appears in the recent turns (or always, when constant), highest priority first.
CREATE TABLE lore_entries (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id   INTEGER NOT NULL,
    story_id   INTEGER REFERENCES stories (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL CHECK (length(trim(name)) > 0),
    name_key   TEXT    NOT NULL,  -- NFKC + casefold of name: uniqueness and prefix search
    keys       TEXT    NOT NULL DEFAULT '[]',  -- JSON list of words or names
    text       TEXT    NOT NULL,
    constant   INTEGER NOT NULL DEFAULT 0 CHECK (constant IN (0, 1)),
    priority   INTEGER NOT NULL DEFAULT 100,
    created_at REAL    NOT NULL,
    updated_at REAL    NOT NULL
);

-- One name per book: the guild's book, and each story's own.
CREATE UNIQUE INDEX lore_one_name_per_book ON lore_entries (guild_id, ifnull(story_id, 0), name_key);
CREATE INDEX lore_by_story ON lore_entries (story_id) WHERE story_id IS NOT NULL;
