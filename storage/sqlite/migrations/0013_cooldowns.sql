-- The last use of something spaced per key (a user's model requests), kept in the database so
-- that every bot process on it spaces a person the same way (several processes need PostgreSQL;
-- the table is here so both backends hold the same schema). `previous` is the use before it,
-- restored when the request the last use allowed fails.
CREATE TABLE cooldowns (
    scope    TEXT    NOT NULL,
    key      INTEGER NOT NULL,
    at       REAL    NOT NULL,
    previous REAL,
    PRIMARY KEY (scope, key)
);
