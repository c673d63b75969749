//! SQLite persistence. Request handlers never touch SQLite: they push [`DbOp`]s onto a
//! channel while they hold the mailbox lock (so operations keep their order), and one writer
//! task applies them in batched transactions.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{AssertSqlSafe, Row};
use tokio::sync::{mpsc, oneshot};

use crate::config::DatabaseLocation;

/// Key/value tables: `(mailbox, id) → data` (JSON text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Labels,
    Drafts,
    Filters,
    History,
    Settings,
    OauthClients,
    OauthCodes,
    OauthRefreshTokens,
    OauthAccessTokens,
}

impl Table {
    pub fn name(self) -> &'static str {
        match self {
            Table::Labels => "labels",
            Table::Drafts => "drafts",
            Table::Filters => "filters",
            Table::History => "history",
            Table::Settings => "settings",
            Table::OauthClients => "oauth_clients",
            Table::OauthCodes => "oauth_codes",
            Table::OauthRefreshTokens => "oauth_refresh_tokens",
            Table::OauthAccessTokens => "oauth_access_tokens",
        }
    }

    const ALL: [Table; 9] = [
        Table::Labels,
        Table::Drafts,
        Table::Filters,
        Table::History,
        Table::Settings,
        Table::OauthClients,
        Table::OauthCodes,
        Table::OauthRefreshTokens,
        Table::OauthAccessTokens,
    ];
}

#[derive(Debug)]
pub enum DbOp {
    PutMailbox {
        email: String,
        display_name: String,
        meta: String,
    },
    PutMessage {
        mailbox: String,
        message: MessageRow,
    },
    SetMessageLabels {
        mailbox: String,
        id: String,
        labels: String,
        history_id: i64,
    },
    DeleteMessage {
        mailbox: String,
        id: String,
    },
    Put {
        table: Table,
        mailbox: String,
        id: String,
        data: String,
    },
    Delete {
        table: Table,
        mailbox: String,
        id: String,
    },
    TrimHistory {
        mailbox: String,
        below: i64,
    },
    /// Drop every mailbox (re-seeding); OAuth tables are kept.
    ResetMail,
    Flush(oneshot::Sender<()>),
}

/// Cheap handle for handlers: enqueueing never blocks and never fails loudly (a closed
/// channel only means the sandbox is shutting down).
#[derive(Clone)]
pub struct DbTx(mpsc::UnboundedSender<DbOp>);

impl DbTx {
    pub fn send(&self, op: DbOp) {
        let _ = self.0.send(op);
    }

    /// Stores one row of `table` as its JSON.
    pub fn put(&self, table: Table, mailbox: &str, id: &str, row: &impl serde::Serialize) {
        self.send(DbOp::Put {
            table,
            mailbox: mailbox.to_string(),
            id: id.to_string(),
            data: serde_json::to_string(row).unwrap_or_default(),
        });
    }

    pub fn delete(&self, table: Table, mailbox: &str, id: &str) {
        self.send(DbOp::Delete {
            table,
            mailbox: mailbox.to_string(),
            id: id.to_string(),
        });
    }

    /// Resolves once every operation queued before it is on disk.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.0.send(DbOp::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    /// A handle whose operations go nowhere (unit tests of the store).
    pub fn detached() -> DbTx {
        let (tx, _rx) = mpsc::unbounded_channel();
        DbTx(tx)
    }
}

pub async fn open(location: &DatabaseLocation) -> anyhow::Result<SqlitePool> {
    let pool = match location {
        DatabaseLocation::Memory => {
            // One connection: every connection to `:memory:` would be a separate database.
            let opts = SqliteConnectOptions::from_str("sqlite::memory:")?;
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(opts)
                .await?
        }
        DatabaseLocation::File(path) => {
            if let Some(dir) = path.parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir)?;
                }
            }
            let opts = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10));
            SqlitePoolOptions::new()
                .max_connections(2)
                .connect_with(opts)
                .await?
        }
    };
    migrate(&pool).await?;
    Ok(pool)
}

async fn migrate(pool: &SqlitePool) -> anyhow::Result<()> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS mailboxes (email TEXT PRIMARY KEY, display_name TEXT NOT NULL, meta TEXT NOT NULL)",
    )
    .execute(pool)
    .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS messages (mailbox TEXT NOT NULL, id TEXT NOT NULL, thread_id TEXT NOT NULL, \
         label_ids TEXT NOT NULL, internal_date INTEGER NOT NULL, history_id INTEGER NOT NULL, raw BLOB NOT NULL, \
         PRIMARY KEY (mailbox, id))",
    )
    .execute(pool)
    .await?;
    for t in Table::ALL {
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {} (mailbox TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (mailbox, id))",
            t.name()
        );
        sqlx::query(AssertSqlSafe(sql)).execute(pool).await?;
    }
    Ok(())
}

pub fn spawn_writer(pool: SqlitePool) -> DbTx {
    let (tx, mut rx) = mpsc::unbounded_channel::<DbOp>();
    tokio::spawn(async move {
        let mut batch = Vec::new();
        while let Some(op) = rx.recv().await {
            batch.push(op);
            while batch.len() < 2000 {
                match rx.try_recv() {
                    Ok(op) => batch.push(op),
                    Err(_) => break,
                }
            }
            let mut waiters = Vec::new();
            if let Err(e) = apply(&pool, std::mem::take(&mut batch), &mut waiters).await {
                tracing::error!(error = %e, "sqlite write failed");
            }
            for w in waiters {
                let _ = w.send(());
            }
        }
    });
    DbTx(tx)
}

async fn apply(
    pool: &SqlitePool,
    ops: Vec<DbOp>,
    waiters: &mut Vec<oneshot::Sender<()>>,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    for op in ops {
        match op {
            DbOp::PutMailbox {
                email,
                display_name,
                meta,
            } => {
                sqlx::query(
                    "INSERT OR REPLACE INTO mailboxes (email, display_name, meta) VALUES (?, ?, ?)",
                )
                .bind(email)
                .bind(display_name)
                .bind(meta)
                .execute(&mut *tx)
                .await?;
            }
            DbOp::PutMessage {
                mailbox,
                message: m,
            } => {
                sqlx::query(
                    "INSERT OR REPLACE INTO messages (mailbox, id, thread_id, label_ids, internal_date, history_id, raw) \
                     VALUES (?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(mailbox)
                .bind(m.id)
                .bind(m.thread_id)
                .bind(serde_json::to_string(&m.labels).unwrap_or_default())
                .bind(m.internal_date)
                .bind(m.history_id as i64)
                .bind(m.raw.to_vec())
                .execute(&mut *tx)
                .await?;
            }
            DbOp::SetMessageLabels {
                mailbox,
                id,
                labels,
                history_id,
            } => {
                sqlx::query("UPDATE messages SET label_ids = ?, history_id = ? WHERE mailbox = ? AND id = ?")
                    .bind(labels)
                    .bind(history_id)
                    .bind(mailbox)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            DbOp::DeleteMessage { mailbox, id } => {
                sqlx::query("DELETE FROM messages WHERE mailbox = ? AND id = ?")
                    .bind(mailbox)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            DbOp::Put {
                table,
                mailbox,
                id,
                data,
            } => {
                let sql = format!(
                    "INSERT OR REPLACE INTO {} (mailbox, id, data) VALUES (?, ?, ?)",
                    table.name()
                );
                sqlx::query(AssertSqlSafe(sql))
                    .bind(mailbox)
                    .bind(id)
                    .bind(data)
                    .execute(&mut *tx)
                    .await?;
            }
            DbOp::Delete { table, mailbox, id } => {
                let sql = format!("DELETE FROM {} WHERE mailbox = ? AND id = ?", table.name());
                sqlx::query(AssertSqlSafe(sql))
                    .bind(mailbox)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            DbOp::TrimHistory { mailbox, below } => {
                sqlx::query("DELETE FROM history WHERE mailbox = ? AND CAST(id AS INTEGER) < ?")
                    .bind(mailbox)
                    .bind(below)
                    .execute(&mut *tx)
                    .await?;
            }
            DbOp::ResetMail => {
                for sql in [
                    "DELETE FROM mailboxes",
                    "DELETE FROM messages",
                    "DELETE FROM labels",
                    "DELETE FROM drafts",
                    "DELETE FROM filters",
                    "DELETE FROM history",
                    "DELETE FROM settings",
                ] {
                    sqlx::query(sql).execute(&mut *tx).await?;
                }
            }
            DbOp::Flush(w) => waiters.push(w),
        }
    }
    tx.commit().await?;
    Ok(())
}

/// A message as the `messages` table holds it.
#[derive(Debug, Clone)]
pub struct MessageRow {
    pub id: String,
    pub thread_id: String,
    pub labels: Vec<String>,
    pub internal_date: i64,
    pub history_id: u64,
    pub raw: std::sync::Arc<Vec<u8>>,
}

pub struct MailboxRow {
    pub email: String,
    pub display_name: String,
    pub meta: String,
}

pub async fn load_mailboxes(pool: &SqlitePool) -> anyhow::Result<Vec<MailboxRow>> {
    let rows = sqlx::query("SELECT email, display_name, meta FROM mailboxes ORDER BY email")
        .fetch_all(pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| MailboxRow {
            email: r.get(0),
            display_name: r.get(1),
            meta: r.get(2),
        })
        .collect())
}

pub async fn load_messages(pool: &SqlitePool, mailbox: &str) -> anyhow::Result<Vec<MessageRow>> {
    let rows = sqlx::query(
        "SELECT id, thread_id, label_ids, internal_date, history_id, raw FROM messages WHERE mailbox = ? \
         ORDER BY internal_date, id",
    )
    .bind(mailbox)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let labels: String = r.get(2);
            let hid: i64 = r.get(4);
            MessageRow {
                id: r.get(0),
                thread_id: r.get(1),
                labels: serde_json::from_str(&labels).unwrap_or_default(),
                internal_date: r.get(3),
                history_id: hid.max(0) as u64,
                raw: std::sync::Arc::new(r.get(5)),
            }
        })
        .collect())
}

/// `(id, data)` rows of a key/value table for one mailbox (`""` for global tables).
pub async fn load_kv(
    pool: &SqlitePool,
    table: Table,
    mailbox: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    let sql = format!(
        "SELECT id, data FROM {} WHERE mailbox = ? ORDER BY rowid",
        table.name()
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(mailbox)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
}
