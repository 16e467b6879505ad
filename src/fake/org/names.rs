//! The word lists generated names, teams, apps, resources and token scopes are
//! drawn from.

pub(super) const FIRST_NAMES: &[&str] = &[
    "Olivia", "Liam", "Amara", "Noah", "Priya", "Mateo", "Chloe", "Kenji", "Fatima", "Lucas",
    "Sofia", "Ethan", "Aisha", "Daniel", "Mei", "Jonas", "Isabel", "Omar", "Hannah", "Diego",
    "Grace", "Samuel", "Leila", "Thomas", "Nadia", "Ravi", "Emma", "Kwame", "Laura", "Felix",
    "Ines", "Marcus", "Yuki", "Carmen", "Oscar", "Zara", "Henry", "Elena", "Tariq", "Julia",
];
pub(super) const LAST_NAMES: &[&str] = &[
    "Smith",
    "Garcia",
    "Nguyen",
    "Okafor",
    "Patel",
    "Müller",
    "Rossi",
    "Kim",
    "Johansson",
    "Silva",
    "Cohen",
    "Haddad",
    "Tanaka",
    "Kowalski",
    "Brown",
    "Martin",
    "Dubois",
    "Singh",
    "Andersen",
    "Lopez",
    "Murphy",
    "Novak",
    "Ahmed",
    "Fischer",
    "Moreau",
    "Chen",
    "Williams",
    "Costa",
    "Ivanova",
    "Mensah",
    "Schmidt",
    "Walker",
    "Romero",
    "Sato",
    "O'Brien",
    "Jensen",
    "Hughes",
    "Rahman",
    "Ferreira",
    "Clarke",
];
pub(super) const TEAMS: &[&str] = &[
    "Engineering",
    "Support",
    "Finance",
    "Sales",
    "Operations",
    "Data Engineering",
    "Marketing",
    "Security",
    "Legal",
    "People",
    "Growth",
    "Platform",
    "Customer Success",
    "Analytics",
];
pub(super) const APP_WORDS: &[&str] = &[
    "Refunds",
    "Orders",
    "Customer",
    "Invoices",
    "Inventory",
    "Payouts",
    "Onboarding",
    "Fraud",
    "Shipping",
    "Billing",
    "Accounts",
    "Tickets",
    "Metrics",
    "Admin",
    "Catalog",
    "Returns",
];
pub(super) const APP_KINDS: &[&str] =
    &["Dashboard", "Console", "Tool", "Portal", "Editor", "Viewer"];
pub(super) const RESOURCE_TYPES: &[&str] = &[
    "postgresql",
    "restapi",
    "mysql",
    "snowflake",
    "googlesheets",
    "s3",
    "graphql",
    "retoolDb",
    "stripe",
    "bigquery",
    "redis",
    "salesforce",
];
pub(super) const TOKEN_SCOPES: &[&str] = &[
    "users:read",
    "groups:read",
    "apps:read",
    "folders:read",
    "resources:read",
    "workflows:read",
    "permissions:read",
    "user_invites:read",
    "access_tokens:read",
];

pub(super) fn resource_type_display(t: &str) -> &'static str {
    match t {
        "postgresql" => "PostgreSQL",
        "restapi" => "REST API",
        "mysql" => "MySQL",
        "snowflake" => "Snowflake",
        "googlesheets" => "Google Sheets",
        "s3" => "Amazon S3",
        "graphql" => "GraphQL",
        "retoolDb" => "Retool Database",
        "stripe" => "Stripe",
        "bigquery" => "BigQuery",
        "redis" => "Redis",
        "salesforce" => "Salesforce",
        _ => "Resource",
    }
}

/// A plausible work e-mail for a person: `first.last@example.com`, or
/// `first.last2@…` and on when `taken` says the address is in use.
pub(super) fn plain_email(first: &str, last: &str, taken: impl Fn(&str) -> bool) -> String {
    let local: String = format!("{first}.{last}")
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'ü' => 'u',
            c => c,
        })
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
        .collect();
    (1..)
        .map(|n| match n {
            1 => format!("{local}@example.com"),
            n => format!("{local}{n}@example.com"),
        })
        .find(|e| !taken(e))
        .unwrap_or_default()
}

/// `base`, or `base 2`, `base 3`… the first that `taken` does not claim.
pub(super) fn unique_name(base: &str, taken: impl Fn(&str) -> bool) -> String {
    (1..)
        .map(|n| match n {
            1 => base.to_string(),
            n => format!("{base} {n}"),
        })
        .find(|name| !taken(name))
        .unwrap_or_default()
}
