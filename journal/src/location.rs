//! Where a journal is, read strictly: a location is configuration that may hold a password, so it is
//! never guessed at (a mistyped URL never becomes a file name) and never repeated in an error.

use std::fmt;

use crate::{JournalError, Result};

/// Where a journal is: `postgres://` or `postgresql://` (any case) is PostgreSQL; `sqlite:PATH` or
/// a plain path is a SQLite file. Anything else that looks like a URL or a connection string (`://`,
/// `=`, a scheme such as `postgres:`) is refused, never taken for a file name. `Display` never
/// shows a password.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// A PostgreSQL URL (its scheme in lower case).
    Postgres(String),
    /// A SQLite file.
    Sqlite(std::path::PathBuf),
}

impl Location {
    /// Reads a location strictly. The error never repeats it (it may hold a password).
    pub fn parse(location: &str) -> Result<Location> {
        let refuse = |why: &str| {
            JournalError::Invalid(format!(
                "the journal location {why}: give a postgres://USER@HOST/DB URL, or a file path (sqlite:PATH for \
                 a path that looks like a URL)"
            ))
        };
        let scheme_end = location.find(':');
        let scheme = scheme_end.map(|i| &location[..i]);
        let lower = scheme.map(str::to_ascii_lowercase);
        if let (Some(end), Some(lower)) = (scheme_end, lower.as_deref()) {
            if matches!(lower, "postgres" | "postgresql") {
                if !location[end..].starts_with("://") {
                    return Err(refuse("is not a URL (postgres:// or postgresql://)"));
                }
                return Ok(Location::Postgres(format!("{lower}{}", &location[end..])));
            }
            if lower == "sqlite" {
                let path = &location[end + 1..];
                let path = path.strip_prefix("//").unwrap_or(path);
                if path.is_empty() {
                    return Err(refuse("names no file"));
                }
                return Ok(Location::Sqlite(path.into()));
            }
        }
        if location.trim().is_empty() {
            return Err(refuse("is empty"));
        }
        if location.contains("://") {
            return Err(refuse("is a URL of a kind the journal does not use"));
        }
        if location.contains('=') {
            return Err(refuse(
                "looks like a key=value connection string (not taken: use a postgres:// URL)",
            ));
        }
        // A scheme: a letter, then letters, digits, `+`, `-` or `.`, then `:` (two characters at
        // least, so `C:\journal.db` stays a path).
        let schemelike = scheme.is_some_and(|s| {
            s.len() >= 2
                && s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        });
        if schemelike {
            return Err(refuse("starts like a URL"));
        }
        Ok(Location::Sqlite(location.into()))
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(path) => write!(f, "{}", path.display()),
            // The password replaced: everything between the scheme's `//` and the last `@` is the
            // user information.
            Location::Postgres(url) => {
                let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
                let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
                let (authority, tail) = rest.split_at(authority_end);
                match authority.rsplit_once('@') {
                    Some((user, host)) => {
                        let (user, password) = user.split_once(':').map_or((user, ""), |(u, _)| (u, ":***"));
                        write!(
                            f,
                            "{scheme}://{user}{password}@{host}{}",
                            tail.split('?').next().unwrap_or("")
                        )
                    }
                    None => write!(f, "{scheme}://{authority}{}", tail.split('?').next().unwrap_or("")),
                }
            }
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::Location;

    #[test]
    fn locations_are_read_strictly_and_never_shown_with_a_password() {
        let pg = Location::parse("POSTGRESQL://app:s3cr3t@db:5432/refunds?password=s3cr3t").unwrap();
        assert_eq!(pg.to_string(), "postgresql://app:***@db:5432/refunds");
        assert!(matches!(pg, Location::Postgres(ref url) if url.starts_with("postgresql://app:s3cr3t@")));
        assert_eq!(
            Location::parse("postgres://app@db/refunds").unwrap().to_string(),
            "postgres://app@db/refunds"
        );
        assert!(matches!(Location::parse("sqlite:a=b.db").unwrap(), Location::Sqlite(_)));
        assert!(matches!(
            Location::parse("dir/journal.db").unwrap(),
            Location::Sqlite(_)
        ));
        assert!(matches!(
            Location::parse("C:\\journal.db").unwrap(),
            Location::Sqlite(_)
        ));
        for refused in [
            "postgres:/app:s3cr3t@db/refunds",
            "postgress://app:s3cr3t@db/refunds",
            "host=db password=s3cr3t",
            "mysql://app:s3cr3t@db/refunds",
            "postgresql+psycopg:app",
            "",
        ] {
            let e = Location::parse(refused).unwrap_err().to_string();
            assert!(!e.contains("s3cr3t"), "{e}");
        }
    }
}
