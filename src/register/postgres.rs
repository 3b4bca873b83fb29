//! Opening the PostgreSQL register: a connection pool, migrations/postgres.

use std::time::Duration;

use sqlx::Postgres;
use sqlx::postgres::PgPoolOptions;

use super::RegisterError;
use super::store::Store;

/// Connects to `url` (`postgres://` or `postgresql://`, libpq-style parameters such as
/// `?options=-c%20search_path%3DNAME` included) and migrates it. The database must exist.
pub async fn connect(url: &str) -> Result<Store<Postgres>, RegisterError> {
    // A server that is down fails start-up within seconds, not after sqlx's default 30 s.
    let pool = PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await?;
    sqlx::migrate!("src/register/migrations/postgres")
        .run(&pool)
        .await?;
    Ok(Store::new(pool))
}
