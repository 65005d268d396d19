-- Reactions as a signal: which Discord message shows which turn (so a 👍 on it finds the turn,
-- also after a restart), and the emoji a guild counts as up and down. The up/down reactions
-- themselves are rows of `feedback` (kinds 'up' and 'down'), one per user and turn.
CREATE TABLE turn_messages (
    message_id INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL,
    turn_id    INTEGER NOT NULL REFERENCES turns (id) ON DELETE CASCADE,
    shown_at   REAL    NOT NULL
);

CREATE INDEX turn_messages_by_turn ON turn_messages (turn_id);

CREATE TABLE guild_reactions (
    guild_id   INTEGER PRIMARY KEY,
    up         TEXT    NOT NULL CHECK (length(up) BETWEEN 1 AND 64),
    down       TEXT    NOT NULL CHECK (length(down) BETWEEN 1 AND 64 AND down <> up),
    updated_at REAL    NOT NULL
);
