//! The two SQL engines behind one small interface: SQLite (rusqlite) for a
//! history file, PostgreSQL (rust-postgres) for a shared database. The store's
//! SQL is written once, in the subset both understand; for PostgreSQL it is
//! translated on prepare (`?N` → `$N`, `char(` → `chr(`, `ifnull(` →
//! `coalesce(`, `temp.` → `pg_temp.`) and the prepared statement cached.
//!
//! Values cross the boundary as [`Value`] (parameters) and [`ValueRef`]
//! (columns) with SQLite's five storage classes; a PostgreSQL column of any
//! integer, boolean, text, JSON or byte type reads as the class SQLite would
//! have stored, and a parameter is encoded as the type PostgreSQL inferred.
//! PostgreSQL text cannot hold NUL: it is escaped reversibly on the way in
//! and out ([`ESCAPE`]). A snapshot's versions go into PostgreSQL by binary
//! `COPY` ([`Db::copy_in`]). The blocking PostgreSQL client runs its own
//! runtime: every call goes through [`blocking`], so that a command's async
//! task can use the store.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::error::Error as StdError;

use bytes::BytesMut;
use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use rusqlite::types::{ToSqlOutput, ValueRef as SqliteRef};

/// A parameter value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(Cow<'a, str>),
    Blob(Cow<'a, [u8]>),
}

impl Value<'_> {
    fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::Int(i) => Value::Int(i),
            Value::Real(r) => Value::Real(r),
            Value::Text(t) => Value::Text(Cow::Owned(t.into_owned())),
            Value::Blob(b) => Value::Blob(Cow::Owned(b.into_owned())),
        }
    }
}

/// A column value as read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ValueRef<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(Cow<'a, [u8]>),
    Blob(&'a [u8]),
}

impl<'a> ValueRef<'a> {
    /// The bytes of a text or blob value.
    pub(crate) fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            ValueRef::Text(b) => Some(b),
            ValueRef::Blob(b) => Some(b),
            _ => None,
        }
    }

    fn class(&self) -> &'static str {
        match self {
            ValueRef::Null => "NULL",
            ValueRef::Int(_) => "INTEGER",
            ValueRef::Real(_) => "REAL",
            ValueRef::Text(_) => "TEXT",
            ValueRef::Blob(_) => "BLOB",
        }
    }
}

/// What can be bound to a parameter.
pub(crate) trait ToValue {
    fn to_value(&self) -> Value<'_>;
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value<'_> {
        (**self).to_value()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value<'_> {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

impl ToValue for Value<'_> {
    fn to_value(&self) -> Value<'_> {
        match self {
            Value::Text(t) => Value::Text(Cow::Borrowed(t)),
            Value::Blob(b) => Value::Blob(Cow::Borrowed(b)),
            Value::Null => Value::Null,
            Value::Int(i) => Value::Int(*i),
            Value::Real(r) => Value::Real(*r),
        }
    }
}

macro_rules! int_value {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value<'_> {
                Value::Int(i64::from(*self))
            }
        }
    )*};
}
int_value!(i64, bool);

impl ToValue for str {
    fn to_value(&self) -> Value<'_> {
        Value::Text(Cow::Borrowed(self))
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value<'_> {
        Value::Text(Cow::Borrowed(self))
    }
}

impl ToValue for [u8] {
    fn to_value(&self) -> Value<'_> {
        Value::Blob(Cow::Borrowed(self))
    }
}

impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value<'_> {
        Value::Blob(Cow::Borrowed(self))
    }
}

/// A statement's parameters: `()`, an array of one type, or [`params!`].
pub(crate) trait Params {
    fn values(&self) -> Vec<Value<'_>>;
}

impl Params for () {
    fn values(&self) -> Vec<Value<'_>> {
        Vec::new()
    }
}

impl<T: ToValue, const N: usize> Params for [T; N] {
    fn values(&self) -> Vec<Value<'_>> {
        self.iter().map(ToValue::to_value).collect()
    }
}

impl Params for &[&dyn ToValue] {
    fn values(&self) -> Vec<Value<'_>> {
        self.iter().map(|v| v.to_value()).collect()
    }
}

/// Parameters of different types, in order: `params![org, id]`.
macro_rules! params {
    ($($p:expr),* $(,)?) => {
        [$(&$p as &dyn $crate::store::db::ToValue),*]
    };
}
pub(crate) use params;

/// What can be read from a column.
pub(crate) trait FromValue: Sized {
    /// `None` when the value's class does not convert.
    fn from_value(v: ValueRef<'_>) -> Option<Self>;
    /// The expected class, for the error.
    const EXPECTED: &'static str;
}

impl FromValue for i64 {
    const EXPECTED: &'static str = "INTEGER";
    fn from_value(v: ValueRef<'_>) -> Option<Self> {
        match v {
            ValueRef::Int(i) => Some(i),
            _ => None,
        }
    }
}

impl FromValue for bool {
    const EXPECTED: &'static str = "INTEGER";
    fn from_value(v: ValueRef<'_>) -> Option<Self> {
        i64::from_value(v).map(|i| i != 0)
    }
}

impl FromValue for String {
    const EXPECTED: &'static str = "TEXT";
    fn from_value(v: ValueRef<'_>) -> Option<Self> {
        match v {
            ValueRef::Text(t) => String::from_utf8(t.into_owned()).ok(),
            _ => None,
        }
    }
}

impl FromValue for Vec<u8> {
    const EXPECTED: &'static str = "BLOB";
    fn from_value(v: ValueRef<'_>) -> Option<Self> {
        match v {
            ValueRef::Blob(b) => Some(b.to_vec()),
            ValueRef::Text(t) => Some(t.into_owned()),
            _ => None,
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    const EXPECTED: &'static str = T::EXPECTED;
    fn from_value(v: ValueRef<'_>) -> Option<Self> {
        match v {
            ValueRef::Null => Some(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// An error of either engine, or a value that did not convert.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DbError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", pg_detail(.0))]
    Pg(#[from] postgres::Error),
    #[error("the query returned no rows")]
    NoRows,
    #[error("column {column}: expected {expected}, found {found}")]
    Type {
        column: usize,
        expected: &'static str,
        found: &'static str,
    },
    #[error("{0}")]
    Conversion(String),
}

/// A PostgreSQL error as one line: the server's message (with its detail), or
/// the client's chain of causes. Never a password: neither puts it there.
pub(crate) fn pg_detail(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return match db.detail() {
            Some(d) => format!("{} ({d})", db.message()),
            None => db.message().to_string(),
        };
    }
    let mut text = e.to_string();
    let mut source = StdError::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl DbError {
    /// A unique or other constraint refused the statement.
    pub(crate) fn is_constraint_violation(&self) -> bool {
        match self {
            DbError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
                f.code == rusqlite::ErrorCode::ConstraintViolation
            }
            DbError::Pg(e) => e.code().is_some_and(|c| c.code().starts_with("23")),
            _ => false,
        }
    }
}

pub(crate) type DbResult<T> = Result<T, DbError>;

/// `.optional()` on a single-row query: no row is `None`.
pub(crate) trait OptionalExtension<T> {
    fn optional(self) -> DbResult<Option<T>>;
}

impl<T> OptionalExtension<T> for DbResult<T> {
    fn optional(self) -> DbResult<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(DbError::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A column index (only `usize`, so that a literal infers as one).
pub(crate) trait RowIndex {
    fn index(self) -> usize;
}

impl RowIndex for usize {
    fn index(self) -> usize {
        self
    }
}

/// One result row.
pub(crate) enum Row<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Pg(&'a postgres::Row),
}

impl Row<'_> {
    /// Column `idx` (0-based) as `T`.
    pub(crate) fn get<I: RowIndex, T: FromValue>(&self, idx: I) -> DbResult<T> {
        let idx = idx.index();
        let value = self.get_ref(idx)?;
        let found = value.class();
        T::from_value(value).ok_or(DbError::Type {
            column: idx,
            expected: T::EXPECTED,
            found,
        })
    }

    /// Column `idx` as stored.
    pub(crate) fn get_ref(&self, idx: usize) -> DbResult<ValueRef<'_>> {
        match self {
            Row::Sqlite(r) => Ok(match r.get_ref(idx)? {
                SqliteRef::Null => ValueRef::Null,
                SqliteRef::Integer(i) => ValueRef::Int(i),
                SqliteRef::Real(f) => ValueRef::Real(f),
                SqliteRef::Text(t) => ValueRef::Text(Cow::Borrowed(t)),
                SqliteRef::Blob(b) => ValueRef::Blob(b),
            }),
            Row::Pg(r) => Ok(r.try_get::<_, PgRef<'_>>(idx)?.0),
        }
    }
}

/// A PostgreSQL column read as the storage class SQLite would have used.
struct PgRef<'a>(ValueRef<'a>);

impl<'a> FromSql<'a> for PgRef<'a> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        let v = match *ty {
            Type::INT8 => ValueRef::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => ValueRef::Int(i64::from(i32::from_sql(ty, raw)?)),
            Type::INT2 => ValueRef::Int(i64::from(i16::from_sql(ty, raw)?)),
            Type::OID => ValueRef::Int(i64::from(u32::from_sql(ty, raw)?)),
            Type::BOOL => ValueRef::Int(i64::from(bool::from_sql(ty, raw)?)),
            Type::FLOAT8 => ValueRef::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => ValueRef::Real(f64::from(f32::from_sql(ty, raw)?)),
            Type::BYTEA => ValueRef::Blob(raw),
            Type::JSONB => ValueRef::Text(Cow::Borrowed(raw.get(1..).unwrap_or_default())),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::JSON | Type::UNKNOWN => {
                ValueRef::Text(unescape_nul(raw))
            }
            _ => return Err(format!("cannot read a column of type {ty}").into()),
        };
        Ok(PgRef(v))
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        Ok(PgRef(ValueRef::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => SqliteRef::Null,
            Value::Int(i) => SqliteRef::Integer(*i),
            Value::Real(r) => SqliteRef::Real(*r),
            Value::Text(t) => SqliteRef::Text(t.as_bytes()),
            Value::Blob(b) => SqliteRef::Blob(b),
        }))
    }
}

impl ToSql for Value<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        // Names the classes, never the value (Retool's data stays out of errors).
        let mismatch = || -> Box<dyn StdError + Sync + Send> {
            let class = match self {
                Value::Null => "NULL",
                Value::Int(_) => "an integer",
                Value::Real(_) => "a real",
                Value::Text(_) => "a text",
                Value::Blob(_) => "a blob",
            };
            format!("cannot store {class} as {ty}").into()
        };
        let text_type = matches!(
            *ty,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::JSON
        );
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i).map_err(|_| mismatch())?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i).map_err(|_| mismatch())?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                _ if text_type => i.to_string().to_sql(ty, out),
                _ => Err(mismatch()),
            },
            Value::Real(r) => match *ty {
                Type::FLOAT8 => r.to_sql(ty, out),
                Type::FLOAT4 => (*r as f32).to_sql(ty, out),
                _ => Err(mismatch()),
            },
            Value::Text(t) => match *ty {
                Type::INT8 => t.parse::<i64>().map_err(|_| mismatch())?.to_sql(ty, out),
                Type::INT4 => t.parse::<i32>().map_err(|_| mismatch())?.to_sql(ty, out),
                Type::BYTEA => t.as_bytes().to_sql(ty, out),
                _ if text_type => {
                    escape_nul(t, out);
                    Ok(IsNull::No)
                }
                _ => Err(mismatch()),
            },
            Value::Blob(b) => match *ty {
                Type::BYTEA => b.as_ref().to_sql(ty, out),
                _ => Err(mismatch()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// PostgreSQL text cannot hold NUL, which Retool's text may: it is stored as
/// the noncharacter U+10FFFF followed by `0`, and U+10FFFF itself doubled.
/// Nothing else changes, so equal texts stay equal and order is kept but
/// for those two characters.
const ESCAPE: char = '\u{10FFFF}';

fn escape_nul(t: &str, out: &mut BytesMut) {
    if !t.contains(['\0', ESCAPE]) {
        out.extend_from_slice(t.as_bytes());
        return;
    }
    let mut buf = [0u8; 4];
    for c in t.chars() {
        match c {
            '\0' => {
                out.extend_from_slice(ESCAPE.encode_utf8(&mut buf).as_bytes());
                out.extend_from_slice(b"0");
            }
            ESCAPE => {
                out.extend_from_slice(ESCAPE.encode_utf8(&mut buf).as_bytes());
                out.extend_from_slice(ESCAPE.encode_utf8(&mut buf).as_bytes());
            }
            c => out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes()),
        }
    }
}

fn unescape_nul(raw: &[u8]) -> Cow<'_, [u8]> {
    let mut esc = [0u8; 4];
    let esc = ESCAPE.encode_utf8(&mut esc).as_bytes().to_vec();
    if !raw.windows(esc.len()).any(|w| w == esc.as_slice()) {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i..].starts_with(&esc) {
            let next = &raw[i + esc.len()..];
            if next.starts_with(b"0") {
                out.push(0);
                i += esc.len() + 1;
                continue;
            }
            if next.starts_with(&esc) {
                out.extend_from_slice(&esc);
                i += 2 * esc.len();
                continue;
            }
        }
        out.push(raw[i]);
        i += 1;
    }
    Cow::Owned(out)
}

/// Runs a blocking PostgreSQL call: the client drives its own runtime, which
/// must not be entered from a task of ours without telling tokio.
pub(crate) fn blocking<R>(f: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// The store's SQL in PostgreSQL's spelling.
pub(crate) fn translate(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut chars = sql.char_indices().peekable();
    let mut quoted = false;
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
        }
        if quoted {
            out.push(c);
            continue;
        }
        if c == '?' {
            out.push('$');
            continue;
        }
        let rest = &sql[i..];
        let word_start = i == 0 || !is_word(sql[..i].chars().next_back().unwrap_or(' '));
        let mut replaced = false;
        if word_start {
            for (from, to) in [
                ("char(", "chr("),
                ("ifnull(", "coalesce("),
                ("temp.", "pg_temp."),
            ] {
                if rest.len() >= from.len() && rest[..from.len()].eq_ignore_ascii_case(from) {
                    out.push_str(to);
                    for _ in 1..from.len() {
                        chars.next();
                    }
                    replaced = true;
                    break;
                }
            }
        }
        if !replaced {
            out.push(c);
        }
    }
    out
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// How many prepared statements a PostgreSQL connection keeps.
const STATEMENT_CACHE: usize = 256;

/// A PostgreSQL connection with its prepared statements.
pub(crate) struct Pg {
    /// `None` only while being dropped.
    client: RefCell<Option<postgres::Client>>,
    cache: RefCell<HashMap<String, postgres::Statement>>,
}

impl Drop for Pg {
    /// Closing the connection blocks on the client's runtime too.
    fn drop(&mut self) {
        if let Some(client) = self.client.get_mut().take() {
            blocking(move || drop(client));
        }
    }
}

impl Pg {
    fn client(&self) -> DbResult<std::cell::RefMut<'_, postgres::Client>> {
        std::cell::RefMut::filter_map(self.client.borrow_mut(), Option::as_mut)
            .map_err(|_| DbError::Conversion("the connection is closed".into()))
    }

    fn statement(&self, sql: &str) -> DbResult<postgres::Statement> {
        if let Some(s) = self.cache.borrow().get(sql) {
            return Ok(s.clone());
        }
        let translated = translate(sql);
        let stmt = blocking(|| self.client()?.prepare(&translated).map_err(DbError::from))?;
        let mut cache = self.cache.borrow_mut();
        // SQL built with varying parts would otherwise keep a prepared
        // statement each on the server for the whole run.
        if cache.len() >= STATEMENT_CACHE {
            cache.clear();
        }
        cache.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }

    fn query(
        &self,
        stmt: &postgres::Statement,
        values: &[Value<'_>],
    ) -> DbResult<Vec<postgres::Row>> {
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as _).collect();
        blocking(|| Ok(self.client()?.query(stmt, &refs)?))
    }

    fn execute(&self, stmt: &postgres::Statement, values: &[Value<'_>]) -> DbResult<usize> {
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as _).collect();
        let n = blocking(|| self.client()?.execute(stmt, &refs).map_err(DbError::from))?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }
}

/// An open connection to either engine.
pub(crate) enum Db {
    Sqlite(rusqlite::Connection),
    Pg(Box<Pg>),
}

/// How a transaction begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Begin {
    /// Reads only: one consistent view of the history.
    Read,
    /// Writes: SQLite takes the write lock at once.
    Write,
}

impl Db {
    pub(crate) fn postgres(client: postgres::Client) -> Db {
        Db::Pg(Box::new(Pg {
            client: RefCell::new(Some(client)),
            cache: RefCell::new(HashMap::new()),
        }))
    }

    pub(crate) fn is_sqlite(&self) -> bool {
        matches!(self, Db::Sqlite(_))
    }

    /// The SQLite connection, for what only SQLite has (pragmas).
    pub(crate) fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Db::Sqlite(c) => Some(c),
            Db::Pg(_) => None,
        }
    }

    pub(crate) fn prepare(&self, sql: &str) -> DbResult<Stmt<'_>> {
        Ok(Stmt(match self {
            Db::Sqlite(c) => StmtInner::Sqlite(SqliteStmt::Plain(c.prepare(sql)?)),
            Db::Pg(pg) => StmtInner::Pg {
                pg,
                stmt: pg.statement(sql)?,
                bound: Vec::new(),
            },
        }))
    }

    /// [`Db::prepare`], keeping SQLite's statement for the next call.
    pub(crate) fn prepare_cached(&self, sql: &str) -> DbResult<Stmt<'_>> {
        Ok(Stmt(match self {
            Db::Sqlite(c) => StmtInner::Sqlite(SqliteStmt::Cached(c.prepare_cached(sql)?)),
            Db::Pg(_) => return self.prepare(sql),
        }))
    }

    pub(crate) fn execute(&self, sql: &str, params: impl Params) -> DbResult<usize> {
        self.prepare(sql)?.execute(params)
    }

    /// Several statements without parameters.
    pub(crate) fn execute_batch(&self, sql: &str) -> DbResult<()> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Db::Pg(pg) => {
                let translated = translate(sql);
                blocking(|| Ok(pg.client()?.batch_execute(&translated)?))
            }
        }
    }

    /// The first row's `f`; [`DbError::NoRows`] when there is none.
    pub(crate) fn query_row<T>(
        &self,
        sql: &str,
        params: impl Params,
        f: impl FnOnce(&Row<'_>) -> DbResult<T>,
    ) -> DbResult<T> {
        self.prepare(sql)?.query_row(params, f)
    }

    /// PostgreSQL's fastest load: `COPY table (columns) FROM STDIN BINARY`,
    /// `fill` binding and ending one row after another (as the columns'
    /// types, as for parameters); returns the rows copied. Inside the open
    /// transaction: a failure undoes the whole COPY with it.
    pub(crate) fn copy_in<E>(
        &self,
        table: &str,
        columns: &[&str],
        db_error: impl Fn(DbError) -> E,
        fill: impl FnOnce(&mut CopySink<'_>) -> Result<(), E>,
    ) -> Result<u64, E> {
        let Db::Pg(pg) = self else {
            return Err(db_error(DbError::Conversion("COPY is PostgreSQL's".into())));
        };
        let list = columns.join(", ");
        let types: Vec<Type> = pg
            .statement(&format!("SELECT {list} FROM {table} LIMIT 0"))
            .map_err(&db_error)?
            .columns()
            .iter()
            .map(|c| c.type_().clone())
            .collect();
        blocking(|| {
            let mut client = pg.client().map_err(&db_error)?;
            let writer = client
                .copy_in(&format!("COPY {table} ({list}) FROM STDIN BINARY"))
                .map_err(|e| db_error(e.into()))?;
            let mut sink = CopySink {
                writer: postgres::binary_copy::BinaryCopyInWriter::new(writer, &types),
                row: CopyRow {
                    values: Vec::with_capacity(columns.len()),
                },
                width: columns.len(),
            };
            fill(&mut sink)?;
            sink.writer.finish().map_err(|e| db_error(e.into()))
        })
    }

    /// Begins a transaction; it rolls back when dropped uncommitted.
    pub(crate) fn begin(&self, how: Begin) -> DbResult<Tx<'_>> {
        let sql = match (self, how) {
            (Db::Sqlite(_), Begin::Read) => "BEGIN DEFERRED",
            (Db::Sqlite(_), Begin::Write) => "BEGIN IMMEDIATE",
            (Db::Pg(_), Begin::Read) => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            (Db::Pg(_), Begin::Write) => "BEGIN",
        };
        self.execute_batch(sql)?;
        Ok(Tx {
            db: self,
            done: false,
        })
    }

    /// Takes the transaction-scoped PostgreSQL advisory lock of `org`'s
    /// writes (no-op on SQLite, whose write transaction locks the file).
    pub(crate) fn lock_org_in_transaction(&self, org: &str) -> DbResult<()> {
        if let Db::Pg(_) = self {
            self.query_row(
                "SELECT pg_advisory_xact_lock(?1)",
                [org_lock_key(org)],
                |_| Ok(()),
            )?;
        }
        Ok(())
    }
}

/// The advisory-lock key of an organization's writes: 63 bits of the SHA-256
/// of a fixed prefix and the org name.
pub(crate) fn org_lock_key(org: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("retool-audit org {org}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first) & i64::MAX
}

/// An open transaction; [`Tx::commit`] ends it, dropping it rolls back.
pub(crate) struct Tx<'a> {
    db: &'a Db,
    done: bool,
}

impl Tx<'_> {
    pub(crate) fn commit(mut self) -> DbResult<()> {
        self.done = true;
        self.db.execute_batch("COMMIT")
    }

    pub(crate) fn rollback(mut self) -> DbResult<()> {
        self.done = true;
        self.db.execute_batch("ROLLBACK")
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Db;
    fn deref(&self) -> &Db {
        self.db
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done
            && let Err(e) = self.db.execute_batch("ROLLBACK")
        {
            tracing::warn!("could not roll back: {e}");
        }
    }
}

/// Where a record's columns are bound, one parameter at a time: a prepared
/// statement, or a row of a PostgreSQL `COPY`.
pub(crate) trait Binder {
    /// Binds parameter `at` (1-based).
    fn raw_bind_parameter(&mut self, at: usize, v: impl ToValue) -> DbResult<()>;
}

impl Binder for Stmt<'_> {
    fn raw_bind_parameter(&mut self, at: usize, v: impl ToValue) -> DbResult<()> {
        Stmt::raw_bind_parameter(self, at, v)
    }
}

/// One row of a [`Db::copy_in`], bound column by column (1-based).
pub(crate) struct CopyRow {
    values: Vec<Value<'static>>,
}

impl Binder for CopyRow {
    fn raw_bind_parameter(&mut self, at: usize, v: impl ToValue) -> DbResult<()> {
        if self.values.len() < at {
            self.values.resize(at, Value::Null);
        }
        self.values[at - 1] = v.to_value().into_owned();
        Ok(())
    }
}

/// The open `COPY ... FROM STDIN BINARY` of a [`Db::copy_in`].
pub(crate) struct CopySink<'a> {
    writer: postgres::binary_copy::BinaryCopyInWriter<'a>,
    row: CopyRow,
    width: usize,
}

impl CopySink<'_> {
    /// The row to bind the next record's columns into.
    pub(crate) fn row(&mut self) -> &mut CopyRow {
        &mut self.row
    }

    /// Sends the bound row and starts the next.
    pub(crate) fn end_row(&mut self) -> DbResult<()> {
        let values = &mut self.row.values;
        if values.len() != self.width {
            return Err(DbError::Conversion(format!(
                "a COPY row has {} of {} columns",
                values.len(),
                self.width
            )));
        }
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as _).collect();
        self.writer.write(&refs)?;
        values.clear();
        Ok(())
    }
}

/// A prepared statement.
pub(crate) struct Stmt<'a>(StmtInner<'a>);

enum StmtInner<'a> {
    Sqlite(SqliteStmt<'a>),
    Pg {
        pg: &'a Pg,
        stmt: postgres::Statement,
        bound: Vec<Value<'static>>,
    },
}

/// A SQLite statement, kept in the connection's cache or not.
enum SqliteStmt<'a> {
    Plain(rusqlite::Statement<'a>),
    Cached(rusqlite::CachedStatement<'a>),
}

impl<'a> std::ops::Deref for SqliteStmt<'a> {
    type Target = rusqlite::Statement<'a>;
    fn deref(&self) -> &Self::Target {
        match self {
            SqliteStmt::Plain(s) => s,
            SqliteStmt::Cached(s) => s,
        }
    }
}

impl std::ops::DerefMut for SqliteStmt<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            SqliteStmt::Plain(s) => s,
            SqliteStmt::Cached(s) => s,
        }
    }
}

/// The rows of a query, read one at a time.
pub(crate) enum Rows<'s> {
    Sqlite(rusqlite::Rows<'s>),
    Pg(std::vec::IntoIter<postgres::Row>, Option<postgres::Row>),
}

impl Rows<'_> {
    pub(crate) fn next(&mut self) -> DbResult<Option<Row<'_>>> {
        match self {
            Rows::Sqlite(rows) => Ok(rows.next()?.map(Row::Sqlite)),
            Rows::Pg(rows, current) => {
                *current = rows.next();
                Ok(current.as_ref().map(Row::Pg))
            }
        }
    }
}

fn bind_sqlite(s: &mut rusqlite::Statement<'_>, values: &[Value<'_>]) -> DbResult<()> {
    for (i, v) in values.iter().enumerate() {
        s.raw_bind_parameter(i + 1, v)?;
    }
    Ok(())
}

impl Stmt<'_> {
    pub(crate) fn execute(&mut self, params: impl Params) -> DbResult<usize> {
        let values = params.values();
        match &mut self.0 {
            StmtInner::Sqlite(s) => {
                bind_sqlite(s, &values)?;
                Ok(s.raw_execute()?)
            }
            StmtInner::Pg { pg, stmt, .. } => pg.execute(stmt, &values),
        }
    }

    pub(crate) fn query(&mut self, params: impl Params) -> DbResult<Rows<'_>> {
        let values = params.values();
        match &mut self.0 {
            StmtInner::Sqlite(s) => {
                bind_sqlite(s, &values)?;
                Ok(Rows::Sqlite(s.raw_query()))
            }
            StmtInner::Pg { pg, stmt, .. } => {
                Ok(Rows::Pg(pg.query(stmt, &values)?.into_iter(), None))
            }
        }
    }

    /// Every row's `f`, read eagerly.
    pub(crate) fn query_map<T>(
        &mut self,
        params: impl Params,
        mut f: impl FnMut(&Row<'_>) -> DbResult<T>,
    ) -> DbResult<std::vec::IntoIter<DbResult<T>>> {
        let mut rows = self.query(params)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(f(&row));
        }
        Ok(out.into_iter())
    }

    pub(crate) fn query_row<T>(
        &mut self,
        params: impl Params,
        f: impl FnOnce(&Row<'_>) -> DbResult<T>,
    ) -> DbResult<T> {
        let mut rows = self.query(params)?;
        match rows.next()? {
            Some(row) => f(&row),
            None => Err(DbError::NoRows),
        }
    }

    /// The names of the statement's result columns.
    pub(crate) fn column_names(&self) -> Vec<String> {
        match &self.0 {
            StmtInner::Sqlite(s) => s.column_names().into_iter().map(String::from).collect(),
            StmtInner::Pg { stmt, .. } => stmt
                .columns()
                .iter()
                .map(|c| c.name().to_string())
                .collect(),
        }
    }

    /// How many parameters the statement has.
    pub(crate) fn parameter_count(&self) -> usize {
        match &self.0 {
            StmtInner::Sqlite(s) => s.parameter_count(),
            StmtInner::Pg { stmt, .. } => stmt.params().len(),
        }
    }

    pub(crate) fn exists(&mut self, params: impl Params) -> DbResult<bool> {
        Ok(self.query(params)?.next()?.is_some())
    }

    /// Binds parameter `at` (1-based) for [`Stmt::raw_execute`].
    pub(crate) fn raw_bind_parameter(&mut self, at: usize, v: impl ToValue) -> DbResult<()> {
        match &mut self.0 {
            StmtInner::Sqlite(s) => Ok(s.raw_bind_parameter(at, v.to_value())?),
            StmtInner::Pg { bound, .. } => {
                if bound.len() < at {
                    bound.resize(at, Value::Null);
                }
                bound[at - 1] = v.to_value().into_owned();
                Ok(())
            }
        }
    }

    /// Runs the statement with the parameters bound by
    /// [`Stmt::raw_bind_parameter`].
    pub(crate) fn raw_execute(&mut self) -> DbResult<usize> {
        match &mut self.0 {
            StmtInner::Sqlite(s) => Ok(s.raw_execute()?),
            StmtInner::Pg { pg, stmt, bound } => {
                let n = pg.execute(stmt, bound)?;
                bound.clear();
                Ok(n)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translation_renames_parameters_and_functions_outside_quotes() {
        assert_eq!(
            translate(
                "SELECT ifnull(a, 'x?1 char(') || char(31) FROM temp.t WHERE b = ?12 AND c = ?2"
            ),
            "SELECT coalesce(a, 'x?1 char(') || chr(31) FROM pg_temp.t WHERE b = $12 AND c = $2"
        );
        // Only whole words: `varchar(` and `mytemp.` stay.
        assert_eq!(
            translate("CAST(x AS varchar(5)), mytemp.y"),
            "CAST(x AS varchar(5)), mytemp.y"
        );
    }

    #[test]
    fn nul_and_the_escape_survive_postgresql_text() {
        for text in [
            "plain",
            "a\0b",
            "\0",
            "x\u{10FFFF}0y",
            "\u{10FFFF}\0\u{10FFFF}",
            "é\0ü",
        ] {
            let mut out = BytesMut::new();
            escape_nul(text, &mut out);
            assert!(!out.contains(&0), "{text:?}");
            assert_eq!(unescape_nul(&out).as_ref(), text.as_bytes(), "{text:?}");
        }
    }

    #[test]
    fn sqlite_rows_read_as_their_storage_class() {
        let db =
            Db::Sqlite(rusqlite::Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}")));
        let row = db.query_row(
            "SELECT ?1, ?2, ?3, ?4, NULL",
            params![7i64, "text", true, [1u8, 2].as_slice()],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                ))
            },
        );
        assert_eq!(
            row.ok(),
            Some((7, "text".to_string(), true, vec![1, 2], None))
        );
        let wrong = db.query_row("SELECT 'a'", (), |r| r.get::<_, i64>(0));
        assert!(
            matches!(
                wrong,
                Err(DbError::Type {
                    expected: "INTEGER",
                    found: "TEXT",
                    ..
                })
            ),
            "{wrong:?}"
        );
        let none = db
            .query_row("SELECT 1 WHERE 0", (), |r| r.get::<_, i64>(0))
            .optional();
        assert_eq!(none.ok(), Some(None));
    }
}
