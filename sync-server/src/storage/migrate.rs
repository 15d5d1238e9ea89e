//! The embedded migrations of each backend and the rule deciding which to apply. Applying them is
//! each backend's job (its own transaction and locking); this module only lists the files and
//! checks what a database has already recorded against them.

use sha2::{Digest, Sha256};

use super::StorageError;

/// One versioned SQL file, embedded at build time.
pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// The SHA-256 of the file's text, recorded when applied, so an edited file is noticed.
    pub fn checksum(&self) -> String {
        hex::encode(Sha256::digest(self.sql.as_bytes()))
    }
}

/// Both backends' migrations from one list: each entry is a version, its file's number and its
/// name, and each backend has its own file of that name (`migrations/<backend>/NNNN_name.sql`), so
/// a migration added for one backend and not the other does not compile.
macro_rules! migrations {
    ($(($version:literal, $number:literal, $name:literal)),* $(,)?) => {
        pub(crate) const SQLITE: &[Migration] = &[$(Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../../migrations/sqlite/", $number, "_", $name, ".sql")),
        }),*];
        pub(crate) const MYSQL: &[Migration] = &[$(Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../../migrations/mysql/", $number, "_", $name, ".sql")),
        }),*];
    };
}

migrations!(
    (1, "0001", "initial"),
    (2, "0002", "accounts"),
    (3, "0003", "social_login"),
    (4, "0004", "account_root"),
    (5, "0005", "meetups"),
    (6, "0006", "idempotency_claims"),
    (7, "0007", "meetups_image_index"),
    (8, "0008", "chunks_clustered"),
    (9, "0009", "like_counts_of_live_accounts"),
);

/// Given the (version, checksum) rows already in `schema_migrations`, the migrations still to
/// apply, in order. Refuses a database that recorded an edited file or a version it does not know.
pub(crate) fn pending<'a>(
    known: &'a [Migration],
    applied: &[(i64, String)],
) -> Result<Vec<&'a Migration>, StorageError> {
    for (version, checksum) in applied {
        let Some(migration) = known.iter().find(|m| m.version == *version) else {
            return Err(StorageError::UnknownMigration(*version));
        };
        if migration.checksum() != *checksum {
            return Err(StorageError::MigrationEdited { version: *version, name: migration.name.to_owned() });
        }
    }
    let mut todo: Vec<&Migration> =
        known.iter().filter(|m| !applied.iter().any(|(version, _)| *version == m.version)).collect();
    todo.sort_by_key(|m| m.version);
    Ok(todo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_increasing_and_match_across_backends() {
        for list in [SQLITE, MYSQL] {
            assert!(list.windows(2).all(|w| w[0].version < w[1].version));
        }
        let sqlite: Vec<_> = SQLITE.iter().map(|m| (m.version, m.name)).collect();
        let mysql: Vec<_> = MYSQL.iter().map(|m| (m.version, m.name)).collect();
        assert_eq!(sqlite, mysql);
    }

    #[test]
    fn an_edited_or_unknown_migration_is_refused() {
        let edited = vec![(1, "not the checksum".to_owned())];
        assert!(matches!(pending(SQLITE, &edited), Err(StorageError::MigrationEdited { version: 1, .. })));
        let unknown = vec![(999, String::new())];
        assert!(matches!(pending(SQLITE, &unknown), Err(StorageError::UnknownMigration(999))));
        let done: Vec<_> = SQLITE.iter().map(|m| (m.version, m.checksum())).collect();
        assert!(pending(SQLITE, &done).map(|todo| todo.is_empty()).unwrap_or(false));
        assert_eq!(pending(SQLITE, &[]).map(|todo| todo.len()).unwrap_or(0), SQLITE.len());
    }
}
