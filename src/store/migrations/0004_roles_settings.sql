-- retool-audit history, schema version 4: roles, role grants, access requests
-- and the organization's security settings (issue 13). A shipped migration is
-- never edited. Same versioning rules as 0001's entity tables; snapshots taken
-- before this schema have no count for these kinds and read them back as not
-- collected.

CREATE TABLE roles (
    org                      TEXT    NOT NULL,
    role_id                  TEXT    NOT NULL,
    name                     TEXT    NOT NULL,
    description              TEXT,
    is_default_role          INTEGER NOT NULL,
    is_legacy_role           INTEGER NOT NULL,
    object_scopes_json       TEXT    NOT NULL,  -- JSON array of scope names
    organization_scopes_json TEXT    NOT NULL,  -- JSON array of scope names
    created_at               TEXT,
    updated_at               TEXT,
    raw                      TEXT    NOT NULL,
    row_hash                 BLOB    NOT NULL,
    valid_from               INTEGER NOT NULL REFERENCES snapshots (id),
    valid_to                 INTEGER REFERENCES snapshots (id)
);
CREATE UNIQUE INDEX roles_open ON roles (org, role_id) WHERE valid_to IS NULL;
CREATE INDEX roles_key ON roles (org, role_id, valid_from);
CREATE INDEX roles_from ON roles (org, valid_from);

-- Who holds a role: every column is the key. object_type and object_id are
-- empty strings for a grant that names no object.
CREATE TABLE role_grants (
    org          TEXT    NOT NULL,
    role_id      TEXT    NOT NULL,
    subject_type TEXT    NOT NULL,  -- 'user' | 'group' (verbatim)
    subject_id   TEXT    NOT NULL,
    object_type  TEXT    NOT NULL,
    object_id    TEXT    NOT NULL,
    row_hash     BLOB    NOT NULL,
    valid_from   INTEGER NOT NULL REFERENCES snapshots (id),
    valid_to     INTEGER REFERENCES snapshots (id)
);
CREATE UNIQUE INDEX role_grants_open ON role_grants (org, role_id, subject_type, subject_id, object_type, object_id) WHERE valid_to IS NULL;
CREATE INDEX role_grants_key ON role_grants (org, role_id, subject_type, subject_id, valid_from);
CREATE INDEX role_grants_from ON role_grants (org, valid_from);

CREATE TABLE access_requests (
    org              TEXT    NOT NULL,
    request_id       INTEGER NOT NULL,
    legacy_id        INTEGER,
    status           TEXT    NOT NULL,  -- 'PENDING' | 'APPROVED' | 'DENIED' (verbatim)
    requesting_email TEXT    NOT NULL,
    updated_by_id    TEXT,
    created_at       TEXT,
    updated_at       TEXT,
    raw              TEXT    NOT NULL,
    row_hash         BLOB    NOT NULL,
    valid_from       INTEGER NOT NULL REFERENCES snapshots (id),
    valid_to         INTEGER REFERENCES snapshots (id)
);
CREATE UNIQUE INDEX access_requests_open ON access_requests (org, request_id) WHERE valid_to IS NULL;
CREATE INDEX access_requests_key ON access_requests (org, request_id, valid_from);
CREATE INDEX access_requests_from ON access_requests (org, valid_from);

-- One row per allow-listed setting; nothing else of either answer is kept
-- (the SSO answer carries client secrets).
CREATE TABLE settings (
    org        TEXT    NOT NULL,
    source     TEXT    NOT NULL,  -- 'organization' | 'sso'
    name       TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    row_hash   BLOB    NOT NULL,
    valid_from INTEGER NOT NULL REFERENCES snapshots (id),
    valid_to   INTEGER REFERENCES snapshots (id)
);
CREATE UNIQUE INDEX settings_open ON settings (org, source, name) WHERE valid_to IS NULL;
CREATE INDEX settings_key ON settings (org, source, name, valid_from);
CREATE INDEX settings_from ON settings (org, valid_from);

CREATE VIEW current_roles AS SELECT * FROM roles WHERE valid_to IS NULL;
CREATE VIEW current_role_grants AS SELECT * FROM role_grants WHERE valid_to IS NULL;
CREATE VIEW current_access_requests AS SELECT * FROM access_requests WHERE valid_to IS NULL;
CREATE VIEW current_settings AS SELECT * FROM settings WHERE valid_to IS NULL;
