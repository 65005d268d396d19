-- The first schema: settings, stories and their members, turns, characters, style profiles,
-- feedback and moderation events. Discord ids are INTEGER (64-bit); times are REAL unix seconds.

CREATE TABLE guild_settings (
    guild_id           INTEGER PRIMARY KEY,
    moderation_level   TEXT    NOT NULL CHECK (moderation_level IN ('family', 'teen', 'mature')),
    blocked_terms      TEXT    NOT NULL DEFAULT '{}',  -- JSON: category -> [term]
    exempt_terms       TEXT    NOT NULL DEFAULT '{}',  -- JSON: category -> [term]
    plain_message_mode INTEGER NOT NULL CHECK (plain_message_mode IN (0, 1)),
    cooldown_seconds   REAL    NOT NULL CHECK (cooldown_seconds >= 0),
    updated_at         REAL    NOT NULL
);

CREATE TABLE stories (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id       INTEGER NOT NULL,
    channel_id     INTEGER NOT NULL,
    thread_id      INTEGER,
    owner_id       INTEGER NOT NULL,
    title          TEXT    NOT NULL,
    genre          TEXT    NOT NULL,
    mood           TEXT,
    premise        TEXT    NOT NULL DEFAULT '',
    mode           TEXT    NOT NULL CHECK (mode IN ('free', 'round_robin')),
    turn_timeout_s INTEGER CHECK (turn_timeout_s IS NULL OR turn_timeout_s > 0),
    timeout_action TEXT    NOT NULL CHECK (timeout_action IN ('skip', 'ai')),
    reroll_policy  TEXT    NOT NULL CHECK (reroll_policy IN ('owner', 'vote')),
    style_matching INTEGER NOT NULL CHECK (style_matching IN (0, 1)),
    model_id       TEXT,
    status         TEXT    NOT NULL CHECK (status IN ('active', 'paused', 'ended')),
    current_seat   INTEGER NOT NULL DEFAULT 0 CHECK (current_seat >= 0),
    turn_deadline  REAL,
    created_at     REAL    NOT NULL,
    updated_at     REAL    NOT NULL,
    ended_at       REAL,
    CHECK ((status = 'ended') = (ended_at IS NOT NULL))
);

-- One story that has not ended per place: the thread it is played in, else its channel.
CREATE UNIQUE INDEX stories_one_open_per_place
    ON stories (coalesce(thread_id, channel_id)) WHERE status <> 'ended';
CREATE INDEX stories_by_guild ON stories (guild_id, id);
CREATE INDEX stories_by_channel ON stories (channel_id, id);
CREATE INDEX stories_by_thread ON stories (thread_id, id) WHERE thread_id IS NOT NULL;
CREATE INDEX stories_due ON stories (turn_deadline)
    WHERE status = 'active' AND turn_deadline IS NOT NULL;

CREATE TABLE characters (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id      INTEGER NOT NULL,
    owner_id      INTEGER NOT NULL,
    name          TEXT    NOT NULL CHECK (length(trim(name)) > 0),
    name_key      TEXT    NOT NULL,  -- NFKC + casefold of name: uniqueness and prefix search
    description   TEXT    NOT NULL DEFAULT '',
    personality   TEXT    NOT NULL DEFAULT '',
    speech_style  TEXT    NOT NULL DEFAULT '',
    backstory     TEXT    NOT NULL DEFAULT '',
    first_message TEXT    NOT NULL DEFAULT '',
    tags          TEXT    NOT NULL DEFAULT '[]',  -- JSON list
    card_json     TEXT,                           -- raw Character Card V2 text
    created_at    REAL    NOT NULL,
    updated_at    REAL    NOT NULL
);

CREATE UNIQUE INDEX characters_one_name_per_owner ON characters (guild_id, owner_id, name_key);
CREATE INDEX characters_by_name ON characters (guild_id, name_key);

CREATE TABLE participants (
    story_id     INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL,
    display_name TEXT    NOT NULL,
    seat         INTEGER NOT NULL,
    joined_at    REAL    NOT NULL,
    left_at      REAL,
    character_id INTEGER REFERENCES characters (id) ON DELETE SET NULL,
    PRIMARY KEY (story_id, user_id),
    UNIQUE (story_id, seat)
);

CREATE INDEX participants_by_character ON participants (character_id)
    WHERE character_id IS NOT NULL;

CREATE TABLE story_characters (
    story_id     INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    character_id INTEGER NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    added_by     INTEGER NOT NULL,
    added_at     REAL    NOT NULL,
    PRIMARY KEY (story_id, character_id)
);

CREATE INDEX story_characters_by_character ON story_characters (character_id);

CREATE TABLE turns (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    story_id        INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    slot            INTEGER NOT NULL CHECK (slot >= 0),
    alt_index       INTEGER NOT NULL CHECK (alt_index >= 0),
    author_kind     TEXT    NOT NULL CHECK (author_kind IN ('user', 'model')),
    author_id       INTEGER,
    author_name     TEXT    NOT NULL DEFAULT '',
    accepted_by     INTEGER,
    character_id    INTEGER REFERENCES characters (id) ON DELETE SET NULL,
    character_name  TEXT,
    kind            TEXT    NOT NULL
                    CHECK (kind IN ('narration', 'dialogue', 'twist', 'poem', 'opening')),
    text            TEXT    NOT NULL,
    model_id        TEXT,
    params_json     TEXT    NOT NULL DEFAULT '{}',
    score           REAL,
    moderation_json TEXT,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'accepted', 'discarded')),
    hidden          INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1)),
    created_at      REAL    NOT NULL,
    UNIQUE (story_id, slot, alt_index)
);

CREATE UNIQUE INDEX turns_one_accepted_per_slot ON turns (story_id, slot)
    WHERE state = 'accepted';
-- recent_accepted, page and pending_for_story walk this index.
CREATE INDEX turns_by_state ON turns (story_id, state, slot);
CREATE INDEX turns_by_character ON turns (character_id) WHERE character_id IS NOT NULL;

CREATE TABLE style_profiles (
    user_id     INTEGER PRIMARY KEY,
    vector      BLOB    NOT NULL,  -- float64 values, little-endian
    count       INTEGER NOT NULL CHECK (count >= 0),
    stats       TEXT    NOT NULL DEFAULT '{}',  -- JSON object
    preferences TEXT    NOT NULL DEFAULT '{}',  -- JSON object
    updated_at  REAL    NOT NULL
);

CREATE TABLE feedback (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    turn_id    INTEGER NOT NULL REFERENCES turns (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('keep', 'reroll_vote', 'up', 'down', 'report')),
    created_at REAL    NOT NULL,
    UNIQUE (turn_id, kind, user_id)
);

CREATE INDEX feedback_by_user ON feedback (user_id);

CREATE TABLE moderation_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id     INTEGER NOT NULL,
    story_id     INTEGER REFERENCES stories (id) ON DELETE SET NULL,
    turn_id      INTEGER REFERENCES turns (id) ON DELETE SET NULL,
    user_id      INTEGER,
    kind         TEXT    NOT NULL CHECK (kind IN ('report', 'block', 'redact', 'fallback')),
    source       TEXT    NOT NULL
                 CHECK (source IN ('user_input', 'character', 'generated', 'report')),
    excerpt      TEXT    NOT NULL DEFAULT '',
    verdict_json TEXT    NOT NULL DEFAULT '{}',
    status       TEXT    NOT NULL DEFAULT 'open'
                 CHECK (status IN ('open', 'resolved', 'dismissed')),
    resolution   TEXT    CHECK (resolution IS NULL OR resolution IN ('hidden', 'dismissed')),
    resolved_by  INTEGER,
    resolved_at  REAL,
    note         TEXT,
    created_at   REAL    NOT NULL,
    CHECK ((status = 'open') = (resolved_at IS NULL)),
    CHECK ((status = 'open') = (resolution IS NULL)),
    CHECK ((status = 'open') = (resolved_by IS NULL))
);

CREATE INDEX moderation_by_guild ON moderation_events (guild_id, id);
CREATE INDEX moderation_open ON moderation_events (guild_id, id) WHERE status = 'open';
CREATE INDEX moderation_by_turn ON moderation_events (turn_id) WHERE turn_id IS NOT NULL;
CREATE INDEX moderation_by_story ON moderation_events (story_id) WHERE story_id IS NOT NULL;
