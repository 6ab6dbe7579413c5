-- Finished webhook deliveries are deleted once older than ROSTER_WEBHOOK_RETENTION (30 days by
-- default), oldest first, a batch at a time by every worker: this index finds them without
-- reading the pending ones or the rest of the table.
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (last_attempt_at)
    WHERE status <> 'PENDING';
