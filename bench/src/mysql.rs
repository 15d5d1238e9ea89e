//! A throwaway database on the MariaDB/MySQL server `MINGIZUK_BENCH_MYSQL_URL` names
//! (`mysql://root@127.0.0.1:3306` by default), for a benchmark's MySQL runs; dropped at the end.

use anyhow::{Context, Result};
use mysql_async::prelude::Queryable;

pub struct MySqlDatabase {
    admin: String,
    name: String,
    url: String,
}

impl MySqlDatabase {
    pub async fn create() -> Result<MySqlDatabase> {
        let admin =
            std::env::var("MINGIZUK_BENCH_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_owned());
        let name = format!("mingizuk_bench_{:016x}", uuid::Uuid::new_v4().as_u64_pair().0);
        let pool = mysql_async::Pool::from_url(admin.as_str())?;
        let mut conn = pool.get_conn().await.context("connecting to MariaDB/MySQL")?;
        conn.query_drop(format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")).await?;
        drop(conn);
        pool.disconnect().await?;
        let url = format!("{admin}/{name}");
        Ok(MySqlDatabase { admin, name, url })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub async fn drop(self) {
        let Ok(pool) = mysql_async::Pool::from_url(self.admin.as_str()) else { return };
        if let Ok(mut conn) = pool.get_conn().await {
            let _ = conn.query_drop(format!("DROP DATABASE IF EXISTS `{}`", self.name)).await;
        }
        let _ = pool.disconnect().await;
    }
}
