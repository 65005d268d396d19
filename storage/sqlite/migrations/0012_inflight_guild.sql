-- The guild of each model request in flight, so that of several bot processes (shards) on one
-- database, each settles after a restart only the requests of its own guilds: Discord routes a
-- guild to shard (guild_id >> 22) % shard_count. NULL: a request outside a guild, or one
-- recorded before this column (settled by the process running shard 0).
ALTER TABLE inflight ADD COLUMN guild_id INTEGER;
