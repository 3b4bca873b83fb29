//! Opening the embedded SQLite register: WAL journal, foreign keys, migrations/sqlite.

use std::str::FromStr;

use sqlx::Sqlite;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

use super::RegisterError;
use super::store::Store;

/// Opens (creating the file if needed) and migrates `url`. An in-memory database gets a single
/// connection, since each connection would otherwise see its own empty database.
pub async fn connect(url: &str) -> Result<Store<Sqlite>, RegisterError> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        // Erased and expired texts are overwritten, not only unlinked, in the database file.
        .pragma("secure_delete", "ON");
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let pool = SqlitePoolOptions::new()
        .max_connections(if in_memory { 1 } else { 4 })
        .connect_with(options)
        .await?;
    sqlx::migrate!("src/register/migrations/sqlite")
        .run(&pool)
        .await?;
    Ok(Store::new(pool))
}
