-- retool-audit history, schema version 1.
-- A shipped migration is never edited; add 0002_... instead.

PRAGMA application_id = 1383350645; -- 0x52744175, "RtAu": marks the file as ours

CREATE TABLE snapshots (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    org                TEXT    NOT NULL,
    started_at         TEXT    NOT NULL,  -- RFC 3339, UTC
    finished_at        TEXT    NOT NULL,  -- RFC 3339, UTC (the snapshot's time)
    source_url         TEXT    NOT NULL,
    dialect            TEXT    NOT NULL,  -- 'v2' | 'v1'
    api_version        TEXT,
    tool_version       TEXT    NOT NULL,
    counts_json        TEXT    NOT NULL,  -- {"users": 3, ...}
    not_collected_json TEXT    NOT NULL,  -- {"workflows": "403: scope missing", ...}
    info_json          TEXT    NOT NULL,  -- the full CollectionInfo
    sha256             TEXT    NOT NULL,  -- hex, over prev_sha256 + info + state
    prev_sha256        TEXT               -- the org's previous snapshot's sha256
);
CREATE INDEX snapshots_org ON snapshots (org, id);

CREATE TABLE runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org         TEXT    NOT NULL,
    source_url  TEXT    NOT NULL,
    started_at  TEXT    NOT NULL,
    finished_at TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('ok', 'failed')),
    error       TEXT,
    snapshot_id INTEGER REFERENCES snapshots (id)
);
CREATE INDEX runs_org ON runs (org, id);

-- Versioned entity tables. A row is one version of one record: it is part of
-- snapshot S iff valid_from <= S AND (valid_to IS NULL OR valid_to > S), within
-- its org. row_hash fingerprints the record so unchanged records cost nothing.
-- Indexes per table: <t>_open (the current versions, unique per key: what a
-- new snapshot compares against), <t>_key (one record's history) and <t>_from
-- (what a snapshot added). There is deliberately no index on valid_to: closing
-- a version would rewrite it, and every index costs on the nightly write.

CREATE TABLE users (
    org                TEXT    NOT NULL,
    user_id            TEXT    NOT NULL,
    legacy_id          INTEGER,
    email              TEXT    NOT NULL,
    first_name         TEXT,
    last_name          TEXT,
    active             INTEGER NOT NULL,  -- 0 = disabled
    is_admin           INTEGER NOT NULL,
    user_type          TEXT    NOT NULL,
    two_factor_enabled INTEGER,
    created_at         TEXT,
    last_active        TEXT,
    raw                TEXT    NOT NULL,
    row_hash           BLOB    NOT NULL,
    valid_from         INTEGER NOT NULL REFERENCES snapshots (id),
    valid_to           INTEGER REFERENCES snapshots (id)
);
CREATE UNIQUE INDEX users_open ON users (org, user_id) WHERE valid_to IS NULL;
CREATE INDEX users_key ON users (org, user_id, valid_from);
CREATE INDEX users_from ON users (org, valid_from);

CREATE TABLE groups (
    org                            TEXT    NOT NULL,
    group_id                       INTEGER NOT NULL,
    legacy_id                      INTEGER,
    name                           TEXT    NOT NULL,
    universal_app_access           TEXT    NOT NULL,  -- none|use|edit|own
    universal_resource_access      TEXT    NOT NULL,
    universal_workflow_access      TEXT    NOT NULL,
    universal_query_library_access TEXT    NOT NULL,
    user_list_access               INTEGER NOT NULL,
    audit_log_access               INTEGER NOT NULL,
    unpublished_release_access     INTEGER NOT NULL,
    usage_analytics_access         INTEGER NOT NULL,
    theme_access                   INTEGER NOT NULL,
    account_details_access         INTEGER NOT NULL,
    landing_page_app_id            TEXT,
    created_at                     TEXT,
    updated_at                     TEXT,
    raw                            TEXT    NOT NULL,
    row_hash                       BLOB    NOT NULL,
    valid_from                     INTEGER NOT NULL REFERENCES snapshots (id),
    valid_to                       INTEGER REFERENCES snapshots (id)
);
CREATE UNIQUE INDEX groups_open ON groups (org, group_id) WHERE valid_to IS NULL;
CREATE INDEX groups_key ON groups (org, group_id, valid_from);
CREATE INDEX groups_from ON groups (org, valid_from);

CREATE TABLE memberships (
    org            TEXT    NOT NULL,
    group_id       INTEGER NOT NULL,
    user_id        TEXT    NOT NULL,
    is_group_admin INTEGER NOT NULL,
    row_hash       BLOB    NOT NULL,
    valid_from     INTEGER NOT NULL REFERENCES snapshots (id),
    valid_to       INTEGER REFERENCES snapshots (id)
);
CREATE UNIQUE INDEX memberships_open ON memberships (org, group_id, user_id) WHERE valid_to IS NULL;
CREATE INDEX memberships_key ON memberships (org, group_id, user_id, valid_from);
CREATE INDEX memberships_from ON memberships (org, valid_from);

CREATE TABLE folders (
    org              TEXT    NOT NULL,
    folder_id        TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    parent_id        TEXT,
    is_system_folder INTEGER NOT NULL,
    folder_type      TEXT    NOT NULL,
    created_at       TEXT,
    updated_at       TEXT,
    raw              TEXT    NOT NULL,
    row_hash         BLOB    NOT NULL,
    valid_from       INTEGER NOT NULL REFERENCES snapshots (id),
    valid_to         INTEGER REFERENCES snapshots (id)
);
CREATE UNIQUE INDEX folders_open ON folders (org, folder_id) WHERE valid_to IS NULL;
CREATE INDEX folders_key ON folders (org, folder_id, valid_from);
CREATE INDEX folders_from ON folders (org, valid_from);

CREATE TABLE apps (
    org           TEXT    NOT NULL,
    app_id        TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    description   TEXT,
    folder_id     TEXT,
    protected     INTEGER NOT NULL,
    is_module     INTEGER NOT NULL,
    is_mobile_app INTEGER NOT NULL,
    created_at    TEXT,
    updated_at    TEXT,
    raw           TEXT    NOT NULL,
    row_hash      BLOB    NOT NULL,
    valid_from    INTEGER NOT NULL REFERENCES snapshots (id),
    valid_to      INTEGER REFERENCES snapshots (id)
);
CREATE UNIQUE INDEX apps_open ON apps (org, app_id) WHERE valid_to IS NULL;
CREATE INDEX apps_key ON apps (org, app_id, valid_from);
CREATE INDEX apps_from ON apps (org, valid_from);

CREATE TABLE resources (
    org           TEXT    NOT NULL,
    resource_id   TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    resource_type TEXT    NOT NULL,
    folder_id     TEXT,
    protected     INTEGER NOT NULL,
    created_at    TEXT,
    updated_at    TEXT,
    raw           TEXT    NOT NULL,
    row_hash      BLOB    NOT NULL,
    valid_from    INTEGER NOT NULL REFERENCES snapshots (id),
    valid_to      INTEGER REFERENCES snapshots (id)
);
CREATE UNIQUE INDEX resources_open ON resources (org, resource_id) WHERE valid_to IS NULL;
CREATE INDEX resources_key ON resources (org, resource_id, valid_from);
CREATE INDEX resources_from ON resources (org, valid_from);

CREATE TABLE workflows (
    org         TEXT    NOT NULL,
    workflow_id TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    description TEXT,
    folder_id   TEXT,
    is_enabled  INTEGER NOT NULL,
    protected   INTEGER NOT NULL,
    created_at  TEXT,
    updated_at  TEXT,
    raw         TEXT    NOT NULL,
    row_hash    BLOB    NOT NULL,
    valid_from  INTEGER NOT NULL REFERENCES snapshots (id),
    valid_to    INTEGER REFERENCES snapshots (id)
);
CREATE UNIQUE INDEX workflows_open ON workflows (org, workflow_id) WHERE valid_to IS NULL;
CREATE INDEX workflows_key ON workflows (org, workflow_id, valid_from);
CREATE INDEX workflows_from ON workflows (org, valid_from);

-- A grant's key is the whole grant: a level change closes one version and
-- opens another. subject_id is a user id, or a group id in decimal.
CREATE TABLE grants (
    org          TEXT    NOT NULL,
    subject_type TEXT    NOT NULL,  -- 'group' | 'user'
    subject_id   TEXT    NOT NULL,
    object_type  TEXT    NOT NULL,  -- 'folder' | 'app' | 'resource' | 'workflow'
    object_id    TEXT    NOT NULL,
    access_level TEXT    NOT NULL,  -- 'none' | 'use' | 'edit' | 'own'
    row_hash     BLOB    NOT NULL,
    valid_from   INTEGER NOT NULL REFERENCES snapshots (id),
    valid_to     INTEGER REFERENCES snapshots (id)
);
CREATE UNIQUE INDEX grants_open ON grants (org, subject_type, subject_id, object_type, object_id, access_level) WHERE valid_to IS NULL;
CREATE INDEX grants_key ON grants (org, subject_type, subject_id, object_type, object_id, valid_from);
CREATE INDEX grants_object ON grants (org, object_type, object_id);
CREATE INDEX grants_from ON grants (org, valid_from);

CREATE TABLE user_invites (
    org            TEXT    NOT NULL,
    invite_id      INTEGER NOT NULL,
    email          TEXT    NOT NULL,
    invited_by     TEXT,
    user_type      TEXT,
    group_ids_json TEXT    NOT NULL,  -- JSON array of group ids
    expires_at     TEXT,
    claimed_by     TEXT,
    claimed_at     TEXT,
    created_at     TEXT,
    raw            TEXT    NOT NULL,
    row_hash       BLOB    NOT NULL,
    valid_from     INTEGER NOT NULL REFERENCES snapshots (id),
    valid_to       INTEGER REFERENCES snapshots (id)
);
CREATE UNIQUE INDEX user_invites_open ON user_invites (org, invite_id) WHERE valid_to IS NULL;
CREATE INDEX user_invites_key ON user_invites (org, invite_id, valid_from);
CREATE INDEX user_invites_from ON user_invites (org, valid_from);

CREATE TABLE access_tokens (
    org             TEXT    NOT NULL,
    token_id        TEXT    NOT NULL,
    label           TEXT    NOT NULL,
    description     TEXT,
    last4           TEXT    NOT NULL,
    owner_legacy_id INTEGER,
    scopes_json     TEXT    NOT NULL,  -- JSON array of scope names
    created_at      TEXT,
    updated_at      TEXT,
    raw             TEXT    NOT NULL,
    row_hash        BLOB    NOT NULL,
    valid_from      INTEGER NOT NULL REFERENCES snapshots (id),
    valid_to        INTEGER REFERENCES snapshots (id)
);
CREATE UNIQUE INDEX access_tokens_open ON access_tokens (org, token_id) WHERE valid_to IS NULL;
CREATE INDEX access_tokens_key ON access_tokens (org, token_id, valid_from);
CREATE INDEX access_tokens_from ON access_tokens (org, valid_from);

-- The latest collected state of every org: current_<kind>.
CREATE VIEW current_users AS SELECT * FROM users WHERE valid_to IS NULL;
CREATE VIEW current_groups AS SELECT * FROM groups WHERE valid_to IS NULL;
CREATE VIEW current_memberships AS SELECT * FROM memberships WHERE valid_to IS NULL;
CREATE VIEW current_folders AS SELECT * FROM folders WHERE valid_to IS NULL;
CREATE VIEW current_apps AS SELECT * FROM apps WHERE valid_to IS NULL;
CREATE VIEW current_resources AS SELECT * FROM resources WHERE valid_to IS NULL;
CREATE VIEW current_workflows AS SELECT * FROM workflows WHERE valid_to IS NULL;
CREATE VIEW current_grants AS SELECT * FROM grants WHERE valid_to IS NULL;
CREATE VIEW current_user_invites AS SELECT * FROM user_invites WHERE valid_to IS NULL;
CREATE VIEW current_access_tokens AS SELECT * FROM access_tokens WHERE valid_to IS NULL;
