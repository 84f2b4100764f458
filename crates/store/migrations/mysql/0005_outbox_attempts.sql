-- How many pushes of a sale to its POS were begun: written before each POS call, so that a
-- crash mid-call leaves a mark. A sale never sent is written directly; one sent before may be
-- on the POS already (its answer lost) and is looked up first.
ALTER TABLE stocksync_sales ADD COLUMN pos_sends INTEGER NOT NULL DEFAULT 0;
-- Sales waiting or dead when this column came may have been sent by the version before.
UPDATE stocksync_sales SET pos_sends = 1 WHERE state <> 'confirmed';
