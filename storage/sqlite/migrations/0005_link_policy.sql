-- Where a guild allows links: 'allow' everywhere, 'turns' only in story text and never in
-- titles or names (the default), 'block' nowhere.
ALTER TABLE guild_settings ADD COLUMN link_policy TEXT NOT NULL DEFAULT 'turns'
    CHECK (link_policy IN ('allow', 'turns', 'block'));
