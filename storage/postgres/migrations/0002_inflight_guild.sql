-- matches-sqlite-version: 12
-- The guild of each model request in flight, so that of several bot processes (shards) on one
-- database, each settles after a restart only the requests of its own guilds (SQLite 0012).
ALTER TABLE inflight ADD COLUMN guild_id BIGINT;
