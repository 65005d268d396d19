-- The model as a co-author: a round-robin story may give the model a seat of its own
-- (`model_seat`, a seat number shared with the participants' so the order stays one list), and
-- say what it writes there (`model_voice`). NULL: the model takes no turns by itself.
ALTER TABLE stories ADD COLUMN model_seat INTEGER CHECK (model_seat IS NULL OR model_seat >= 0);
ALTER TABLE stories ADD COLUMN model_voice TEXT NOT NULL DEFAULT 'narration'
    CHECK (model_voice IN ('narration', 'characters', 'mixed'));
