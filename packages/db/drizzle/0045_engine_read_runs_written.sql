-- aiops_read_runs (0044) becomes VOLATILE. A STABLE function reads with the snapshot of the statement that
-- calls it; a VOLATILE one takes a fresh snapshot per query, so it sees what an earlier part of the same
-- statement wrote. The worker's completion statement uses that: it records a batch with
-- aiops_complete_steps and, in the same statement, reads the rows of the runs the batch finished that
-- somebody in the process waits for (one round trip fewer per batch). Its other callers read in a
-- statement of their own, where both see the same rows.
ALTER FUNCTION aiops_read_runs(uuid, uuid[]) VOLATILE;
