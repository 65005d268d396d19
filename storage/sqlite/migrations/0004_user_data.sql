-- Style memory is opt-in. A user's own choice wins (shared by every guild, as their style
-- profile is); without one, the guild's default applies, and a guild without a row is off.
CREATE TABLE user_privacy (
    user_id      INTEGER PRIMARY KEY,
    style_memory INTEGER NOT NULL CHECK (style_memory IN (0, 1)),
    updated_at   REAL    NOT NULL
);

CREATE TABLE guild_privacy (
    guild_id             INTEGER PRIMARY KEY,
    style_memory_default INTEGER NOT NULL CHECK (style_memory_default IN (0, 1)),
    updated_at           REAL    NOT NULL
);

-- A user's export and deletion find their rows without reading every turn and participant.
CREATE INDEX turns_by_author ON turns (author_id) WHERE author_id IS NOT NULL;
CREATE INDEX participants_by_user ON participants (user_id);
CREATE INDEX characters_by_owner ON characters (owner_id);
