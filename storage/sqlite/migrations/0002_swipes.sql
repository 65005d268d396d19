-- Swipes: which alternative of a pending slot a front end showed last. That one is kept
-- automatically when the story moves on. A counter within the slot, not a time, so two marks in
-- the same clock tick still have an order.
ALTER TABLE turns ADD COLUMN shown_seq INTEGER NOT NULL DEFAULT 0;
