-- retool-audit history, schema version 6: environments, resource
-- configurations, groups' access to each configuration (per-environment
-- resource access) and per-app usage (issue 13). A shipped migration is never
-- edited. Same versioning rules as 0001's entity tables; snapshots taken
-- before this schema have no count for these kinds and read them back as not
-- collected.

CREATE TABLE environments (
    org            TEXT    NOT NULL,
    environment_id TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    description    TEXT,
    is_default     INTEGER NOT NULL,
    created_at     TEXT,
    updated_at     TEXT,
    row_hash       BLOB    NOT NULL,
    valid_from     INTEGER NOT NULL REFERENCES snapshots (id),
    valid_to       INTEGER REFERENCES snapshots (id)
);
CREATE UNIQUE INDEX environments_open ON environments (org, environment_id) WHERE valid_to IS NULL;
CREATE INDEX environments_key ON environments (org, environment_id, valid_from);
CREATE INDEX environments_from ON environments (org, valid_from);

-- Which resource and environment a configuration joins. A configuration's
-- options (hosts, user names, passwords, keys) are never read, so there is no
-- column for them.
CREATE TABLE resource_configurations (
    org              TEXT    NOT NULL,
    configuration_id TEXT    NOT NULL,
    resource_id      TEXT    NOT NULL,  -- the resource's uuid or name, as Retool sends it
    resource_name    TEXT    NOT NULL,
    resource_type    TEXT    NOT NULL,
    environment_id   TEXT    NOT NULL,
    row_hash         BLOB    NOT NULL,
    valid_from       INTEGER NOT NULL REFERENCES snapshots (id),
    valid_to         INTEGER REFERENCES snapshots (id)
);
CREATE UNIQUE INDEX resource_configurations_open ON resource_configurations (org, configuration_id) WHERE valid_to IS NULL;
CREATE INDEX resource_configurations_key ON resource_configurations (org, configuration_id, valid_from);
CREATE INDEX resource_configurations_from ON resource_configurations (org, valid_from);

-- A group's access level on one resource configuration.
CREATE TABLE configuration_grants (
    org              TEXT    NOT NULL,
    group_id         INTEGER NOT NULL,
    configuration_id TEXT    NOT NULL,
    access_level     TEXT    NOT NULL,  -- 'use' | 'edit' | 'own'
    row_hash         BLOB    NOT NULL,
    valid_from       INTEGER NOT NULL REFERENCES snapshots (id),
    valid_to         INTEGER REFERENCES snapshots (id)
);
CREATE UNIQUE INDEX configuration_grants_open ON configuration_grants (org, group_id, configuration_id) WHERE valid_to IS NULL;
CREATE INDEX configuration_grants_key ON configuration_grants (org, group_id, configuration_id, valid_from);
CREATE INDEX configuration_grants_from ON configuration_grants (org, valid_from);

-- One user's views and saves of one app over the snapshot's usage window
-- (read with --usage-details). Versioned like `usage`: unchanged figures cost
-- nothing.
CREATE TABLE app_usage (
    org        TEXT    NOT NULL,
    app_id     TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,  -- as the usage API sends it
    email      TEXT    NOT NULL,
    views      INTEGER NOT NULL,
    saves      INTEGER NOT NULL,
    row_hash   BLOB    NOT NULL,
    valid_from INTEGER NOT NULL REFERENCES snapshots (id),
    valid_to   INTEGER REFERENCES snapshots (id)
);
CREATE UNIQUE INDEX app_usage_open ON app_usage (org, app_id, user_id) WHERE valid_to IS NULL;
CREATE INDEX app_usage_key ON app_usage (org, app_id, user_id, valid_from);
CREATE INDEX app_usage_from ON app_usage (org, valid_from);

CREATE VIEW current_environments AS SELECT * FROM environments WHERE valid_to IS NULL;
CREATE VIEW current_resource_configurations AS SELECT * FROM resource_configurations WHERE valid_to IS NULL;
CREATE VIEW current_configuration_grants AS SELECT * FROM configuration_grants WHERE valid_to IS NULL;
CREATE VIEW current_app_usage AS SELECT * FROM app_usage WHERE valid_to IS NULL;
