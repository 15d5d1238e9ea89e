//! MySQL: the connection pool's settings for a `mysql://` URL (how many connections, how long an
//! idle one stays open, no reset on return), each overridable in the URL.

use std::time::Duration;

use mysql_async::{Opts, OptsBuilder, PoolConstraints};

use crate::storage::StorageError;

/// The most connections one server keeps to MySQL unless the URL says otherwise (`pool_max=`).
const MAX_CONNECTIONS: usize = 32;

/// How long a pooled connection beyond the first may sit idle before it is closed.
const IDLE_CONNECTION_TTL: Duration = Duration::from_secs(60);

/// The connection pool's settings for a `mysql://` URL; settings the URL names itself win.
pub(super) fn pool_opts(url: &str) -> Result<Opts, StorageError> {
    let mut opts = Opts::from_url(url).map_err(|e| StorageError::InvalidUrl(e.to_string()))?;
    // mysql_async would open up to 100 connections per process; a few instances of that pass
    // MariaDB's default max_connections (151) under load. A `pool_max` in the URL overrides.
    if !url.contains("pool_max=") {
        let constraints = PoolConstraints::new(1, MAX_CONNECTIONS).unwrap_or_default();
        let pool_opts = opts.pool_opts().clone().with_constraints(constraints);
        opts = OptsBuilder::from_opts(opts).pool_opts(pool_opts).into();
    }
    // Without an idle TTL mysql_async keeps only `min` (here 1) connections idle and closes every
    // other one as soon as it is returned: under load each query then opened a connection of its
    // own (18 600 in one chat benchmark run, a TCP and authentication handshake each, and
    // 160 ms p99 latency at a load SQLite answers within 35 ms). With one, up to `pool_max` stay
    // open and those idle for a minute are closed.
    if !url.contains("inactive_connection_ttl=") {
        let pool_opts = opts.pool_opts().clone().with_inactive_connection_ttl(IDLE_CONNECTION_TTL);
        opts = OptsBuilder::from_opts(opts).pool_opts(pool_opts).into();
    }
    // Resetting a connection each time it goes back to the pool costs a round trip and drops
    // its prepared statements; nothing here leaves session state behind (no session variables,
    // temporary tables or open transactions: mysql_async rolls back a dropped one), so a
    // connection is reused as it is unless the URL asks for the reset (`reset_connection=`).
    if !url.contains("reset_connection=") {
        let pool_opts = opts.pool_opts().clone().with_reset_connection(false);
        opts = OptsBuilder::from_opts(opts).pool_opts(pool_opts).into();
    }
    Ok(opts)
}

#[cfg(test)]
mod tests {
    use mysql_async::Pool;
    use mysql_async::prelude::Queryable;

    use super::*;

    /// Needs the MariaDB/MySQL the suite uses (`MINGIZUK_TEST_MYSQL_URL`, root on 127.0.0.1:3306).
    #[tokio::test]
    async fn a_busy_pool_keeps_its_connections_open_instead_of_opening_one_per_query() {
        let url = crate::storage::test_mysql_admin_url();
        let pool = Pool::new(pool_opts(&url).expect("pool options"));
        let mut seen = std::collections::HashSet::new();
        for _ in 0..5 {
            // Twenty queries at once, as twenty busy rooms would make, then all back to the pool.
            let conns = futures_util::future::join_all((0..20).map(|_| pool.get_conn())).await;
            for conn in conns {
                let mut conn = conn.expect("connect to MariaDB/MySQL on 127.0.0.1:3306");
                let id: Option<u64> = conn.query_first("SELECT CONNECTION_ID()").await.expect("query");
                seen.insert(id.expect("a connection id"));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        pool.disconnect().await.expect("disconnect");
        // Kept: the same twenty each round. Closed on return: about a hundred.
        assert!(seen.len() <= 25, "{} connections opened for 5 rounds of 20 queries", seen.len());
    }
}
