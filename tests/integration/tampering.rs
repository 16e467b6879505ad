//! Tampering (issue 5, item 5): `verify`, run as a user would, on a real
//! history of four snapshots with changes in every table between them. Any
//! single edited, deleted or inserted row of any snapshot-bearing table, a
//! re-ordered chain, a deleted middle snapshot and an edited `prev_sha256` each
//! fail with exit 1 and name the first broken snapshot; an untouched history
//! passes.

use std::path::Path;

use rusqlite::Connection;

use crate::common::{Run, World, retool_audit, run};

/// Every table whose rows belong to snapshots (see `0001_initial.sql` and
/// the later migrations).
const VERSIONED: [&str; 19] = [
    "users",
    "groups",
    "memberships",
    "folders",
    "apps",
    "resources",
    "workflows",
    "grants",
    "user_invites",
    "access_tokens",
    "roles",
    "role_grants",
    "access_requests",
    "settings",
    "usage",
    "environments",
    "resource_configurations",
    "configuration_grants",
    "app_usage",
];

/// Per table: a data column and an SQL expression that changes it, and the
/// key column and an expression giving an inserted copy a new key.
fn edits(table: &str) -> (&'static str, &'static str, &'static str, &'static str) {
    match table {
        "users" => (
            "email",
            "'mallory@evil.example'",
            "user_id",
            "user_id || '-x'",
        ),
        "groups" => (
            "name",
            "name || ' (edited)'",
            "group_id",
            "group_id + 100000",
        ),
        "memberships" => (
            "is_group_admin",
            "1 - is_group_admin",
            "user_id",
            "user_id || '-x'",
        ),
        "folders" => (
            "name",
            "name || ' (edited)'",
            "folder_id",
            "folder_id || '-x'",
        ),
        "apps" => ("name", "'Payroll (edited)'", "app_id", "app_id || '-x'"),
        "resources" => (
            "name",
            "name || ' (edited)'",
            "resource_id",
            "resource_id || '-x'",
        ),
        "workflows" => (
            "is_enabled",
            "1 - is_enabled",
            "workflow_id",
            "workflow_id || '-x'",
        ),
        "grants" => (
            "access_level",
            "CASE access_level WHEN 'own' THEN 'use' ELSE 'own' END",
            "object_id",
            "object_id || '-x'",
        ),
        "user_invites" => (
            "email",
            "'attacker@evil.example'",
            "invite_id",
            "invite_id + 100000",
        ),
        "access_tokens" => (
            "label",
            "label || ' (edited)'",
            "token_id",
            "token_id || '-x'",
        ),
        "roles" => ("name", "name || ' (edited)'", "role_id", "role_id || '-x'"),
        "role_grants" => (
            "subject_id",
            "subject_id || '-x'",
            "role_id",
            "role_id || '-x'",
        ),
        "access_requests" => (
            "status",
            "'APPROVED' || status",
            "request_id",
            "request_id + 100000",
        ),
        "settings" => ("value", "value || 'x'", "name", "name || '-x'"),
        "usage" => ("app_views", "app_views + 1", "user_id", "user_id || '-x'"),
        "environments" => (
            "name",
            "name || ' (edited)'",
            "environment_id",
            "environment_id || '-x'",
        ),
        "resource_configurations" => (
            "environment_id",
            "environment_id || '-x'",
            "configuration_id",
            "configuration_id || '-x'",
        ),
        "configuration_grants" => (
            "access_level",
            "CASE access_level WHEN 'own' THEN 'use' ELSE 'own' END",
            "configuration_id",
            "configuration_id || '-x'",
        ),
        "app_usage" => ("saves", "saves + 5", "user_id", "user_id || '-x'"),
        other => panic!("no edit for {other}"),
    }
}

/// A history of four snapshots of the demo org with changes in every table
/// between them; returns the world and a pristine copy of its database.
struct History {
    w: World,
    pristine: Vec<u8>,
}

fn history() -> History {
    let w = World::demo();
    w.snapshot(&["--usage-details"]).ok();
    w.server().update_org(|o| o.apply_scripted_changes());
    w.snapshot(&["--usage-details"]).ok();
    w.server().update_org(|o| {
        o.folders[3].name = "Renamed folder".into();
        o.workflows[0].is_enabled = !o.workflows[0].is_enabled;
        o.workflows[1].name = "Renamed workflow".into();
        o.tokens[0].label = "renamed token".into();
        o.invites.pop();
        o.groups[3].name = "Renamed group".into();
    });
    w.snapshot(&["--usage-details"]).ok();
    w.server().update_org(|o| o.apply_scripted_changes());
    w.snapshot(&["--usage-details"]).ok();
    // Checkpoint so the file alone holds everything (tests copy it).
    let conn = Connection::open(&w.db).expect("open");
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpoint");
    drop(conn);
    let pristine = std::fs::read(&w.db).expect("read db");
    History { w, pristine }
}

impl History {
    /// A fresh copy of the untouched history at `name`, tampered with `sql`.
    fn tampered(&self, name: &str, sql: &str) -> std::path::PathBuf {
        let db = self.w.path(&format!("{name}.db"));
        std::fs::write(&db, &self.pristine).expect("copy db");
        let conn = Connection::open(&db).expect("open copy");
        // As someone editing the file by hand would: without foreign key checks.
        conn.execute_batch(&format!("PRAGMA foreign_keys = OFF; {sql}"))
            .unwrap_or_else(|e| panic!("{name}: {sql}: {e}"));
        drop(conn);
        db
    }

    fn query<T: rusqlite::types::FromSql>(&self, sql: &str) -> T {
        let conn = Connection::open(&self.w.db).expect("open");
        conn.query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

fn verify(db: &Path) -> Run {
    run(retool_audit(db).arg("verify"))
}

/// `verify` fails with exit 1 and names `first` as the first broken snapshot.
#[track_caller]
fn detected(db: &Path, what: &str, first: i64) {
    let run = verify(db);
    assert_eq!(
        run.code, 1,
        "{what}: verify must fail\nstdout:{}\nstderr:{}",
        run.stdout, run.stderr
    );
    let needle = format!("first broken snapshot: {first}\n");
    assert!(
        run.stderr.contains(&needle),
        "{what}: verify must name snapshot {first} first\n{}",
        run.stderr
    );
}

#[test]
fn an_untouched_history_of_four_snapshots_verifies() {
    let h = history();
    let run = verify(&h.w.db);
    run.ok();
    assert!(
        run.stdout.contains("verified 4 snapshot(s)"),
        "{}",
        run.stdout
    );
    // Every table holds rows, and every table changed between snapshots, so
    // the cases below tamper with real history, not empty tables.
    for table in VERSIONED {
        let changed: i64 = h.query(&format!(
            "SELECT count(*) FROM {table} WHERE valid_from > 1 OR valid_to IS NOT NULL"
        ));
        assert!(changed > 0, "{table} changed between snapshots");
    }
}

/// The row tampered with in `table`: the latest version that started after
/// the first snapshot (so "first broken" is not trivially 1), and its
/// `valid_from`.
fn target_row(h: &History, table: &str) -> (i64, i64) {
    let rowid: i64 = h.query(&format!(
        "SELECT rowid FROM {table} ORDER BY valid_from > 1 DESC, valid_to IS NULL, rowid DESC LIMIT 1"
    ));
    let from: i64 = h.query(&format!(
        "SELECT valid_from FROM {table} WHERE rowid = {rowid}"
    ));
    (rowid, from)
}

#[test]
fn an_edited_row_in_any_table_is_detected_at_its_first_snapshot() {
    let h = history();
    for table in VERSIONED {
        let (rowid, from) = target_row(&h, table);
        let (column, change, _, _) = edits(table);
        let db = h.tampered(
            &format!("edit-{table}"),
            &format!("UPDATE {table} SET {column} = {change} WHERE rowid = {rowid}"),
        );
        detected(&db, &format!("edited {table}.{column}"), from);
        // The raw copy and the row's fingerprint count as much as the typed columns.
        let db = h.tampered(
            &format!("edit-hash-{table}"),
            &format!("UPDATE {table} SET row_hash = x'00112233445566778899aabbccddeeff' WHERE rowid = {rowid}"),
        );
        detected(&db, &format!("edited {table}.row_hash"), from);
    }
    for table in [
        "users",
        "groups",
        "apps",
        "access_tokens",
        "roles",
        "access_requests",
    ] {
        let (rowid, from) = target_row(&h, table);
        let db = h.tampered(
            &format!("edit-raw-{table}"),
            &format!("UPDATE {table} SET raw = replace(raw, '\"', ' \"') WHERE rowid = {rowid}"),
        );
        detected(&db, &format!("edited {table}.raw"), from);
    }
}

#[test]
fn a_row_moved_in_time_is_detected() {
    let h = history();
    // A version that ended at a later snapshot, made to last one snapshot longer.
    let rowid: i64 =
        h.query("SELECT rowid FROM users WHERE valid_to IS NOT NULL ORDER BY rowid DESC LIMIT 1");
    let to: i64 = h.query(&format!("SELECT valid_to FROM users WHERE rowid = {rowid}"));
    let db = h.tampered(
        "extend-users",
        &format!("UPDATE users SET valid_to = valid_to + 1 WHERE rowid = {rowid}"),
    );
    detected(&db, "a closed user version extended", to);
    // A user added later, back-dated to the first snapshot.
    let db = h.tampered(
        "backdate-users",
        "UPDATE users SET valid_from = 1 \
         WHERE rowid = (SELECT max(rowid) FROM users WHERE valid_from > 1 AND valid_to IS NULL)",
    );
    detected(&db, "a user version back-dated", 1);
    // A current grant ended early.
    let db = h.tampered(
        "end-grant",
        "UPDATE grants SET valid_to = 4 \
         WHERE rowid = (SELECT min(rowid) FROM grants WHERE valid_to IS NULL AND valid_from < 3)",
    );
    detected(&db, "a current grant ended early", 4);
}

#[test]
fn a_deleted_row_in_any_table_is_detected_at_its_first_snapshot() {
    let h = history();
    for table in VERSIONED {
        let (rowid, from) = target_row(&h, table);
        let db = h.tampered(
            &format!("delete-{table}"),
            &format!("DELETE FROM {table} WHERE rowid = {rowid}"),
        );
        detected(&db, &format!("deleted {table} row"), from);
    }
}

#[test]
fn an_inserted_row_in_any_table_is_detected_at_its_first_snapshot() {
    let h = history();
    for table in VERSIONED {
        let (rowid, from) = target_row(&h, table);
        let (_, _, key, new_key) = edits(table);
        let db = h.tampered(
            &format!("insert-{table}"),
            &format!(
                "CREATE TEMP TABLE copy AS SELECT * FROM {table} WHERE rowid = {rowid}; \
                 UPDATE copy SET {key} = {new_key}; \
                 INSERT INTO {table} SELECT * FROM copy"
            ),
        );
        detected(&db, &format!("inserted {table} row"), from);
    }
}

#[test]
fn snapshots_table_edits_deletes_and_inserts_are_detected() {
    let h = history();
    for (column, change) in [
        ("started_at", "'2020-01-01T00:00:00Z'"),
        ("finished_at", "'2020-01-01T00:00:00Z'"),
        ("source_url", "'https://elsewhere.example/api/v2'"),
        ("api_version", "'9.9.9'"),
        ("tool_version", "'0.0.1'"),
        (
            "counts_json",
            "replace(counts_json, '\"users\":', '\"users\":1')",
        ),
        (
            "not_collected_json",
            "'{\"workflows\":\"missing scope workflows:read\"}'",
        ),
        (
            "info_json",
            "json_set(info_json, '$.notes', json_array('nothing to see'))",
        ),
        (
            "info_json",
            "replace(info_json, '\"notes\":[', '\"notes\":[\"edited\",')",
        ),
        ("sha256", "'00' || substr(sha256, 3)"),
        ("org", "'someone-else'"),
    ] {
        let db = h.tampered(
            &format!("snapshots-{column}-{}", change.len()),
            &format!("UPDATE snapshots SET {column} = {change} WHERE id = 2"),
        );
        detected(&db, &format!("edited snapshots.{column}"), 2);
    }
    // The snapshot row alone deleted: its records name a snapshot that is gone.
    let db = h.tampered(
        "snapshots-delete-row",
        "DELETE FROM runs WHERE snapshot_id = 3; DELETE FROM snapshots WHERE id = 3",
    );
    detected(&db, "deleted snapshots row 3", 3);
    // A forged fifth snapshot that copies the fourth and links to it.
    let db = h.tampered(
        "snapshots-insert",
        "INSERT INTO snapshots (org, started_at, finished_at, source_url, dialect, api_version, \
           tool_version, counts_json, not_collected_json, info_json, sha256, prev_sha256) \
         SELECT org, started_at, finished_at, source_url, dialect, api_version, tool_version, \
           counts_json, not_collected_json, info_json, sha256, sha256 FROM snapshots WHERE id = 4",
    );
    detected(&db, "inserted snapshot", 5);
}

#[test]
fn a_reordered_chain_is_detected() {
    let h = history();
    // Snapshots 2 and 3 swap ids: their records still name the old ids.
    let db = h.tampered(
        "swap-ids",
        "UPDATE snapshots SET id = -2 WHERE id = 2; UPDATE snapshots SET id = 2 WHERE id = 3; \
         UPDATE snapshots SET id = 3 WHERE id = -2",
    );
    detected(&db, "snapshots 2 and 3 swapped ids", 2);
    // Snapshots 2 and 3 swap hashes.
    let db = h.tampered(
        "swap-hashes",
        "CREATE TEMP TABLE h AS SELECT id, sha256, prev_sha256 FROM snapshots; \
         UPDATE snapshots SET sha256 = (SELECT sha256 FROM h WHERE h.id = 5 - snapshots.id), \
           prev_sha256 = (SELECT prev_sha256 FROM h WHERE h.id = 5 - snapshots.id) \
         WHERE id IN (2, 3)",
    );
    detected(&db, "snapshots 2 and 3 swapped hashes", 2);
}

#[test]
fn a_deleted_middle_snapshot_is_detected() {
    let h = history();
    // Snapshot 2 and every record that started in it, as someone covering
    // their tracks would: versions that ended at 2 still name it.
    let mut sql =
        String::from("DELETE FROM runs WHERE snapshot_id = 2; DELETE FROM snapshots WHERE id = 2;");
    for table in VERSIONED {
        sql.push_str(&format!("DELETE FROM {table} WHERE valid_from = 2;"));
    }
    let db = h.tampered("delete-middle", &sql);
    detected(&db, "deleted snapshot 2 with its rows", 2);
    // Even with those versions re-pointed at snapshot 3, the chain is broken there.
    for table in VERSIONED {
        sql.push_str(&format!(
            "UPDATE {table} SET valid_to = 3 WHERE valid_to = 2;"
        ));
    }
    let db = h.tampered("delete-middle-repointed", &sql);
    detected(&db, "deleted snapshot 2, later rows re-pointed", 3);
}

#[test]
fn an_edited_prev_sha256_is_detected() {
    let h = history();
    let db = h.tampered(
        "prev-edited",
        "UPDATE snapshots SET prev_sha256 = '00' || substr(prev_sha256, 3) WHERE id = 3",
    );
    detected(&db, "edited prev_sha256 of 3", 3);
    let db = h.tampered(
        "prev-cleared",
        "UPDATE snapshots SET prev_sha256 = NULL WHERE id = 4",
    );
    detected(&db, "cleared prev_sha256 of 4", 4);
}
