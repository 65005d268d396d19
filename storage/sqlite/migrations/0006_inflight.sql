-- Model requests a person is waiting on ("…is thinking"): written before the model is asked,
-- removed once the answer is shown, so a bot restarted after a crash finds the ones it never
-- answered and tells those people (the interaction token edits the placeholder for 15 minutes).
CREATE TABLE inflight (
    id INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL,
    application_id INTEGER NOT NULL,
    token TEXT NOT NULL,
    started_at REAL NOT NULL
);
