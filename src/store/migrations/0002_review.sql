-- retool-audit history, schema version 2: quarterly access-review campaigns.
-- A shipped migration is never edited; add 0003_... instead.

-- One review campaign: a population frozen from one snapshot.
CREATE TABLE review_campaigns (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    org               TEXT    NOT NULL,
    name              TEXT    NOT NULL,             -- e.g. '2026-Q4', unique per org
    snapshot_id       INTEGER NOT NULL REFERENCES snapshots (id),
    snapshot_sha256   TEXT    NOT NULL,             -- the frozen snapshot's hash
    created_at        TEXT    NOT NULL,             -- RFC 3339, UTC
    reviewer_by       TEXT    NOT NULL CHECK (reviewer_by IN ('single', 'group-admin')),
    settings_json     TEXT    NOT NULL,             -- inactive_days, roster file + sha256, tool version
    population_sha256 TEXT    NOT NULL,             -- SHA-256 over the items, in key order
    UNIQUE (org, name)
);

-- The frozen population: one row per membership, direct grant or account under review.
CREATE TABLE review_items (
    campaign_id      INTEGER NOT NULL REFERENCES review_campaigns (id),
    row_key          TEXT    NOT NULL,  -- 'm:<group_id>:<user_id>', 'g:<user_id>:<type>:<object_id>', 'a:<user_id>'
    kind             TEXT    NOT NULL CHECK (kind IN ('membership', 'direct_grant', 'account')),
    user_id          TEXT    NOT NULL,
    email            TEXT    NOT NULL,
    group_id         INTEGER,           -- memberships
    is_group_admin   INTEGER,           -- memberships: 0/1
    object_type      TEXT,              -- direct grants: folder|app|resource|workflow
    object_id        TEXT,
    access_level     TEXT,              -- direct grants: use|edit|own
    workbook         TEXT    NOT NULL,  -- which workbook (reviewer set) the row was sent to
    context_json     TEXT    NOT NULL,  -- [[column, value], ...] as written to the locked cells
    suggested        TEXT,              -- 'revoke' | 'review' | NULL
    suggested_reason TEXT,
    PRIMARY KEY (campaign_id, row_key)
) WITHOUT ROWID;

-- Every decision ever imported. The current decision of a row is its newest
-- row with superseded_by IS NULL; replaced decisions are kept, never deleted.
CREATE TABLE review_decisions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id   INTEGER NOT NULL,
    row_key       TEXT    NOT NULL,
    decision      TEXT    NOT NULL CHECK (decision IN ('keep', 'revoke', 'modify')),
    reason        TEXT,
    reviewer      TEXT,
    reviewed_at   TEXT,                 -- as entered by the reviewer (YYYY-MM-DD or RFC 3339)
    imported_at   TEXT    NOT NULL,     -- RFC 3339, UTC
    source_file   TEXT    NOT NULL,     -- the workbook's file name
    source_sha256 TEXT    NOT NULL,     -- the workbook file's SHA-256
    superseded_by INTEGER REFERENCES review_decisions (id),
    FOREIGN KEY (campaign_id, row_key) REFERENCES review_items (campaign_id, row_key)
);
CREATE INDEX review_decisions_row ON review_decisions (campaign_id, row_key, id);
