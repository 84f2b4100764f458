//! Database connection strings: URLs (`sqlite://…`, `mysql://…`, `mariadb://…`) and the ADO.NET
//! form the original program used (`Server=…;Port=…;Database=…;Uid=…;Pwd=…;`).
//!
//! The parsed form keeps the password out of `Display` and `Debug`, so it can be logged.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use std::fmt;

/// Which engine a connection string points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    MySql,
}

/// A validated connection string.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    backend: Backend,
    /// The URL handed to sqlx; it may hold a password.
    url: String,
}

/// Why a connection string was refused. Never quotes the password.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UrlError {
    #[error("the connection string is empty")]
    Empty,
    #[error(
        "unsupported database scheme '{0}': use sqlite://FILE, mysql://USER:PASSWORD@HOST:PORT/DATABASE, or Server=…;Database=…;Uid=…;Pwd=…"
    )]
    UnknownScheme(String),
    #[error(
        "the connection string is neither a URL (sqlite://FILE, mysql://…) nor Server=…;Database=…;Uid=…;Pwd=…"
    )]
    Unrecognised,
    #[error("the ADO.NET connection string lacks '{0}'")]
    MissingKey(&'static str),
    #[error("the ADO.NET connection string has a part without '=': '{0}'")]
    MalformedPart(String),
    #[error("Port must be a number from 1 to 65535, got '{0}'")]
    BadPort(String),
    #[error(
        "a MySQL URL needs a host and a database name: mysql://USER:PASSWORD@HOST:PORT/DATABASE"
    )]
    IncompleteMySqlUrl,
}

impl DatabaseUrl {
    /// Parses a URL or an ADO.NET connection string.
    pub fn parse(input: &str) -> Result<Self, UrlError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(UrlError::Empty);
        }
        if let Some((scheme, rest)) = input.split_once("://") {
            return match scheme.to_ascii_lowercase().as_str() {
                "sqlite" => Ok(Self {
                    backend: Backend::Sqlite,
                    url: format!("sqlite://{rest}"),
                }),
                "mysql" | "mariadb" => {
                    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
                    let host = authority.rsplit('@').next().unwrap_or_default();
                    let database = path.split('?').next().unwrap_or_default();
                    if host.is_empty() || database.is_empty() {
                        return Err(UrlError::IncompleteMySqlUrl);
                    }
                    Ok(Self {
                        backend: Backend::MySql,
                        url: format!("mysql://{rest}"),
                    })
                }
                other => Err(UrlError::UnknownScheme(other.to_owned())),
            };
        }
        if input.contains('=') {
            return Self::parse_ado_net(input);
        }
        Err(UrlError::Unrecognised)
    }

    /// `Server=host;Port=3306;Database=db;Uid=user;Pwd=secret;` (keys case-insensitive, with
    /// the usual aliases) into a MySQL URL.
    fn parse_ado_net(input: &str) -> Result<Self, UrlError> {
        let (mut host, mut port, mut database, mut user, mut password) =
            (None, None, None, None, None);
        for part in input.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, value)) = part.split_once('=') else {
                let key = part.split_whitespace().next().unwrap_or_default();
                return Err(UrlError::MalformedPart(key.to_owned()));
            };
            let value = value.trim().to_owned();
            match key.trim().to_ascii_lowercase().replace(' ', "").as_str() {
                "server" | "host" | "datasource" | "address" | "addr" => host = Some(value),
                "port" => port = Some(value),
                "database" | "initialcatalog" => database = Some(value),
                "uid" | "user" | "userid" | "username" => user = Some(value),
                "pwd" | "password" => password = Some(value),
                // SslMode, CharSet, Convert Zero Datetime …: the MySQL defaults serve us.
                _ => {}
            }
        }
        let host = host.ok_or(UrlError::MissingKey("Server"))?;
        let database = database.ok_or(UrlError::MissingKey("Database"))?;
        let port = match port {
            Some(port) => match port.parse::<u16>() {
                Ok(n) if n > 0 => n,
                _ => return Err(UrlError::BadPort(port)),
            },
            None => 3306,
        };
        let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
        let credentials = match (user, password) {
            (Some(user), Some(password)) => format!("{}:{}@", enc(&user), enc(&password)),
            (Some(user), None) => format!("{}@", enc(&user)),
            (None, _) => String::new(),
        };
        Ok(Self {
            backend: Backend::MySql,
            url: format!("mysql://{credentials}{host}:{port}/{}", enc(&database)),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The full URL, password included: for the database driver only.
    pub fn expose(&self) -> &str {
        &self.url
    }

    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        let Some((scheme, rest)) = self.url.split_once("://") else {
            return self.url.clone();
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let authority = match authority.rsplit_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _password)) => format!("{user}:***@{host}"),
                None => format!("{userinfo}@{host}"),
            },
            None => authority.to_owned(),
        };
        if rest.contains('/') {
            format!("{scheme}://{authority}/{path}")
        } else {
            format!("{scheme}://{authority}")
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_pass_through() {
        let url = DatabaseUrl::parse("sqlite://stocksync.db").unwrap();
        assert_eq!(url.backend(), Backend::Sqlite);
        assert_eq!(url.expose(), "sqlite://stocksync.db");
    }

    #[test]
    fn ado_net_strings_become_mysql_urls() {
        let url = DatabaseUrl::parse(
            "Server=db.local;Port=3307;Database=shop;Uid=sync;Pwd=p@ss;word;SslMode=none;",
        );
        // A ';' inside the password cannot be told apart from a separator: the tail is a part
        // without '=', which is refused rather than guessed.
        assert_eq!(url, Err(UrlError::MalformedPart("word".into())));

        let url = DatabaseUrl::parse(
            "server=db.local; port=3307; database=shop; user id=sync; password=p@ss/x",
        )
        .unwrap();
        assert_eq!(url.backend(), Backend::MySql);
        assert_eq!(url.expose(), "mysql://sync:p%40ss%2Fx@db.local:3307/shop");
        assert_eq!(url.redacted(), "mysql://sync:***@db.local:3307/shop");
    }

    #[test]
    fn ado_net_defaults_the_port_and_names_what_is_missing() {
        let url = DatabaseUrl::parse("Server=localhost;Database=test;Uid=root;").unwrap();
        assert_eq!(url.expose(), "mysql://root@localhost:3306/test");
        assert_eq!(
            DatabaseUrl::parse("Server=localhost;Uid=root;Pwd=x"),
            Err(UrlError::MissingKey("Database"))
        );
        assert_eq!(
            DatabaseUrl::parse("Server=h;Database=d;Port=http"),
            Err(UrlError::BadPort("http".into()))
        );
    }

    #[test]
    fn passwords_never_show_in_display_or_debug() {
        let url = DatabaseUrl::parse("mysql://root:hunter2@127.0.0.1:3306/test").unwrap();
        assert!(!url.to_string().contains("hunter2"));
        assert!(!format!("{url:?}").contains("hunter2"));
        assert_eq!(url.to_string(), "mysql://root:***@127.0.0.1:3306/test");
    }

    #[test]
    fn unknown_schemes_and_incomplete_urls_are_refused() {
        assert_eq!(
            DatabaseUrl::parse("postgres://x/y"),
            Err(UrlError::UnknownScheme("postgres".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("mysql://root@127.0.0.1"),
            Err(UrlError::IncompleteMySqlUrl)
        );
        assert_eq!(DatabaseUrl::parse("  "), Err(UrlError::Empty));
        assert_eq!(DatabaseUrl::parse("hunter2"), Err(UrlError::Unrecognised));
    }
}
