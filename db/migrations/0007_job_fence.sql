-- A fencing token for the runs of a job. The job's lock (a session advisory lock) says which run
-- goes on with a job, but it lives as long as its connection: when that connection dies while
-- its run goes on, another run may take the job up beside it. Each run that starts a job takes
-- the next token, and a chunk commits only while the job's token is still its run's: a run that
-- another has replaced commits nothing more.
ALTER TABLE jobs ADD COLUMN fence bigint NOT NULL DEFAULT 0;
