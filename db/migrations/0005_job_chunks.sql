-- The chunks of an import that are written: records after_record + 1 to last_record, counted
-- after the header. Chunks are written two at a time and may commit out of order, so a single
-- "records done" mark cannot say where a resumed job goes on.
-- Scratch space of a running import, emptied when it ends.
CREATE TABLE job_chunks (
    job_id uuid NOT NULL REFERENCES jobs ON DELETE CASCADE,
    after_record int NOT NULL,
    last_record int NOT NULL,
    PRIMARY KEY (job_id, after_record)
);
