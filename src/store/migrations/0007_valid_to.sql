-- retool-audit history, schema version 7: an index on where each version
-- ends, beside the existing one on where it begins, for the tables whose
-- changes a period report walks snapshot by snapshot (issue 15). Indexes only:
-- no row, hash or chain changes.

CREATE INDEX users_to ON users (org, valid_to);
CREATE INDEX groups_to ON groups (org, valid_to);
CREATE INDEX memberships_to ON memberships (org, valid_to);
CREATE INDEX folders_to ON folders (org, valid_to);
CREATE INDEX apps_to ON apps (org, valid_to);
CREATE INDEX resources_to ON resources (org, valid_to);
CREATE INDEX workflows_to ON workflows (org, valid_to);
CREATE INDEX grants_to ON grants (org, valid_to);
CREATE INDEX roles_to ON roles (org, valid_to);
CREATE INDEX role_grants_to ON role_grants (org, valid_to);
CREATE INDEX access_requests_to ON access_requests (org, valid_to);
CREATE INDEX settings_to ON settings (org, valid_to);
CREATE INDEX environments_to ON environments (org, valid_to);
CREATE INDEX resource_configurations_to ON resource_configurations (org, valid_to);
CREATE INDEX configuration_grants_to ON configuration_grants (org, valid_to);
