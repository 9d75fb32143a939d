-- A message queued in bulk (an import of a million invitations) is stored as a draft: the
-- template's variables as JSON, rendered by the sender when it first claims the message.
-- Its Message-ID and date are fixed when queued, so a retry is the same message. Keep in
-- step with the other backend's 0005.
ALTER TABLE outbox ADD COLUMN draft TEXT;
