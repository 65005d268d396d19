-- matches-sqlite-version: 13
-- The last use of something spaced per key (a user's model requests), shared by every bot
-- process on the database (SQLite 0013).
CREATE TABLE cooldowns (
    scope    TEXT             NOT NULL,
    key      BIGINT           NOT NULL,
    at       DOUBLE PRECISION NOT NULL,
    previous DOUBLE PRECISION,
    PRIMARY KEY (scope, key)
);
