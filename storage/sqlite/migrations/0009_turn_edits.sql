-- A turn's earlier texts: an edit stores the text it replaced here, so `/story show` can show a
-- turn's history while the story, its context and its export read the latest text.
CREATE TABLE turn_edits (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    turn_id       INTEGER NOT NULL REFERENCES turns (id) ON DELETE CASCADE,
    editor_id     INTEGER NOT NULL,
    previous_text TEXT    NOT NULL,
    edited_at     REAL    NOT NULL
);

CREATE INDEX turn_edits_by_turn ON turn_edits (turn_id, id);
