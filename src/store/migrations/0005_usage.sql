-- retool-audit history, schema version 5: app usage per user (issue 13).
-- A shipped migration is never edited.
--
-- Versioned like every other kind (see 0001): a user whose figures did not
-- change since the last snapshot costs nothing; one whose figures changed
-- costs one row. The window the figures cover is `usage_window` in the
-- snapshot's info_json. Retool lists users with activity only.
CREATE TABLE usage (
    org         TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,  -- as the usage API sends it
    email       TEXT    NOT NULL,
    app_views   INTEGER NOT NULL,
    app_saves   INTEGER NOT NULL,
    unique_apps INTEGER NOT NULL,
    last_active TEXT,              -- RFC 3339, UTC
    row_hash    BLOB    NOT NULL,
    valid_from  INTEGER NOT NULL REFERENCES snapshots (id),
    valid_to    INTEGER REFERENCES snapshots (id)
);
CREATE UNIQUE INDEX usage_open ON usage (org, user_id) WHERE valid_to IS NULL;
CREATE INDEX usage_key ON usage (org, user_id, valid_from);
CREATE INDEX usage_from ON usage (org, valid_from);

CREATE VIEW current_usage AS SELECT * FROM usage WHERE valid_to IS NULL;
