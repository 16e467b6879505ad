//! Test helpers: serve a small axum router on 127.0.0.1:0 (real HTTP), build a
//! client with tiny backoffs against it, and spec-shaped v2/v1 JSON records.
//! Integration tests can swap the router for the simulated Retool in `fake`.

use std::time::Duration;

use axum::Router;
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use url::Url;

use super::{Client, ClientConfig, Secret};
use crate::model::Dialect;

/// A token that must never show up in any message.
pub(crate) const TEST_TOKEN: &str = "retool_test_SECRET_0123456789";

/// A router served on loopback until dropped.
pub(crate) struct TestServer {
    /// The instance root, `http://127.0.0.1:<port>`.
    pub base: Url,
    handle: JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

impl TestServer {
    /// Serves `router` (routes such as `/api/v2/users`) on 127.0.0.1:0.
    pub async fn start(router: Router) -> TestServer {
        let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
            Ok(l) => l,
            Err(e) => panic!("cannot bind a loopback port for the test server: {e}"),
        };
        let addr = match listener.local_addr() {
            Ok(a) => a,
            Err(e) => panic!("test server has no address: {e}"),
        };
        let handle = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        let base = match Url::parse(&format!("http://{addr}")) {
            Ok(u) => u,
            Err(e) => panic!("bad test server url: {e}"),
        };
        TestServer { base, handle }
    }

    /// The API root for a dialect (`/api/v2` or `/api/v1`).
    pub fn api_root(&self, dialect: Dialect) -> Url {
        match super::resolve_api_root(Some(self.base.as_str()), None, dialect, false) {
            Ok(u) => u,
            Err(e) => panic!("test server url does not resolve: {e}"),
        }
    }

    /// A client with millisecond backoffs and short timeouts.
    pub fn client(&self, dialect: Dialect) -> Client {
        self.client_with(dialect, |_| {})
    }

    pub fn client_with(&self, dialect: Dialect, adjust: impl FnOnce(&mut ClientConfig)) -> Client {
        let mut cfg = fast_config(self.api_root(dialect), dialect);
        adjust(&mut cfg);
        match Client::new(cfg) {
            Ok(c) => c,
            Err(e) => panic!("test client: {e}"),
        }
    }
}

/// A config with tiny backoffs so retry tests stay fast.
pub(crate) fn fast_config(api_root: Url, dialect: Dialect) -> ClientConfig {
    let mut cfg = ClientConfig::new(api_root, dialect, Secret::new(TEST_TOKEN.to_string()));
    cfg.initial_backoff = Duration::from_millis(1);
    cfg.max_backoff = Duration::from_millis(20);
    cfg.connect_timeout = Duration::from_secs(2);
    cfg.request_timeout = Duration::from_secs(5);
    cfg.max_retries = 4;
    cfg
}

/// A v2 list envelope.
pub(crate) fn v2_envelope(data: Vec<Value>, total: u64, next_token: Option<&str>) -> Value {
    json!({
        "success": true,
        "data": data,
        "total_count": total,
        "next_token": next_token,
        "has_more": next_token.is_some(),
    })
}

pub(crate) fn v2_user(n: usize) -> Value {
    json!({
        "id": format!("user_{n:04}"), "legacy_id": n, "email": format!("u{n}@acme.test"),
        "active": true, "created_at": "2024-01-02T03:04:05.000Z", "last_active": null,
        "first_name": "Ada", "last_name": null, "metadata": {}, "is_admin": n == 0,
        "user_type": "default", "two_factor_auth_enabled": n % 2 == 0
    })
}

pub(crate) fn v2_group(id: i64, name: &str, members: &[(&str, bool)]) -> Value {
    let members: Vec<Value> = members
        .iter()
        .map(|(u, admin)| json!({"id": u, "email": format!("{u}@acme.test"), "is_group_admin": admin}))
        .collect();
    json!({
        "id": id, "legacy_id": id, "name": name, "members": members,
        "universal_app_access": "use", "universal_resource_access": "none",
        "universal_workflow_access": "none", "universal_query_library_access": "none",
        "user_invites": [], "user_list_access": false, "audit_log_access": false,
        "unpublished_release_access": false, "usage_analytics_access": false,
        "theme_access": false, "account_details_access": false,
        "landing_page_app_id": null, "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z"
    })
}

pub(crate) fn v2_app(id: &str, folder: &str) -> Value {
    json!({
        "id": id, "name": format!("App {id}"), "description": null, "folder_id": folder,
        "protected": false, "synced": false, "shortlink": null, "is_module": false,
        "is_mobile_app": false, "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z", "release_version": "1.0.0"
    })
}

pub(crate) fn v2_folder(id: &str) -> Value {
    json!({
        "id": id, "legacy_id": id, "name": format!("Folder {id}"), "parent_folder_id": null,
        "is_system_folder": false, "folder_type": "app",
        "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"
    })
}

pub(crate) fn v2_resource(id: &str) -> Value {
    json!({
        "id": id, "type": "postgresql", "display_name": format!("DB {id}"), "folder_id": null,
        "protected": false, "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z"
    })
}
