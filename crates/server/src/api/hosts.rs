//! Which hosts and origins the API answers, in every mode (with or without an `ApiKey`):
//! - `Host` must be one of ours: a loopback name or address, the listen address (any address of
//!   the machine when listening on 0.0.0.0 / [::]), or an `AllowedHosts` entry. A name that is
//!   not ours is how DNS rebinding reaches a loopback service from a web page: refused (421).
//! - A state-changing request (POST, PUT, PATCH, DELETE) sent by a browser must come from our
//!   own origin: a foreign `Origin`, or without one a cross-site `Sec-Fetch-Site`, is refused
//!   (403). Clients that are not browsers send neither and are not concerned.
//!
//! The webhooks (`/webhooks/…`) are exempt: POS vendors call them from their own servers, under
//! whatever name the shop gave them, and each carries its own proof (signature or secret).
//! The decisions are pure functions of the request's headers; `guard` is the middleware.

use super::{AppState, error::ApiError};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};

/// The hosts this service answers for.
#[derive(Debug, Clone)]
pub struct AllowedHosts {
    listen: SocketAddr,
    /// `AllowedHosts` held `*`: any host.
    any: bool,
    patterns: Vec<Pattern>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    /// A host name, and a port when the entry named one.
    Exact(String, Option<u16>),
    /// `*.shop.example`: any name ending in `.shop.example`.
    Suffix(String),
}

impl AllowedHosts {
    /// The listen address, loopback names, and the `AllowedHosts` entries (already checked by
    /// the configuration).
    pub fn new(listen: SocketAddr, configured: &[String]) -> Self {
        let mut any = false;
        let mut patterns = Vec::new();
        for entry in configured {
            if entry == "*" {
                any = true;
            } else if let Some(suffix) = entry.strip_prefix('*') {
                patterns.push(Pattern::Suffix(suffix.to_ascii_lowercase()));
            } else if let Some((host, port)) = split_authority(entry) {
                patterns.push(Pattern::Exact(host, port));
            }
        }
        Self {
            listen,
            any,
            patterns,
        }
    }

    /// Whether a request whose `Host` is `authority` is for us.
    pub fn allows_host(&self, authority: &str) -> bool {
        if self.any {
            return true;
        }
        let Some((host, port)) = split_authority(authority) else {
            return false;
        };
        if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
            // An address cannot be rebound: it is ours if we listen on it.
            return ip.is_loopback() || ip == self.listen.ip() || self.listen.ip().is_unspecified();
        }
        is_loopback_name(&host) || self.configured(&host, port)
    }

    /// Whether `host` (with `port`) matches an `AllowedHosts` entry other than `*`.
    fn configured(&self, host: &str, port: Option<u16>) -> bool {
        self.patterns.iter().any(|pattern| match pattern {
            Pattern::Exact(name, None) => name == host,
            Pattern::Exact(name, Some(wanted)) => name == host && port == Some(*wanted),
            Pattern::Suffix(suffix) => host.ends_with(suffix.as_str()),
        })
    }

    /// Whether a browser's `Origin` is ours: the same host and port as the request's `Host`,
    /// or a name of `AllowedHosts` (a proxy may give us another `Host` than the browser used).
    /// `*` does not make every origin ours.
    pub fn allows_origin(&self, origin: &str, host: Option<&str>) -> bool {
        let Some((scheme, authority)) = origin.split_once("://") else {
            return false; // "null" (a sandboxed frame, a file) or garbage
        };
        let Some((origin_host, origin_port)) = split_authority(authority) else {
            return false;
        };
        let default_port = match scheme.to_ascii_lowercase().as_str() {
            "http" => 80,
            "https" => 443,
            _ => return false,
        };
        let origin_port = origin_port.unwrap_or(default_port);
        let same_as_host = host.and_then(split_authority).is_some_and(|(host, port)| {
            host == origin_host && port.is_none_or(|port| port == origin_port)
        });
        same_as_host || self.configured(&origin_host, Some(origin_port))
    }
}

/// Whether `authority` (`host[:port]`) names this machine's loopback: `localhost` or a loopback
/// address.
pub(crate) fn is_loopback(authority: &str) -> bool {
    split_authority(authority).is_some_and(|(host, _)| {
        is_loopback_name(&host)
            || host
                .trim_matches(['[', ']'])
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    })
}

fn is_loopback_name(host: &str) -> bool {
    host == "localhost"
}

/// `host[:port]` (or `[v6]:port`), lower-cased and without a trailing dot; `None` when it is
/// not an authority (empty, a path, a bad port).
fn split_authority(authority: &str) -> Option<(String, Option<u16>)> {
    let authority = authority.trim();
    if authority.is_empty() || authority.contains(['/', '@', ' ', '?', '#']) {
        return None;
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            after => Some(after.strip_prefix(':')?),
        };
        (format!("[{v6}]"), port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port)),
            None => (authority.to_owned(), None),
        }
    };
    let port = match port {
        Some(port) => Some(port.parse::<u16>().ok()?),
        None => None,
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty()).then_some((host, port))
}

/// Whether `method` may change something (and so must come from our own origin, and carry the
/// session's CSRF token when a cookie authenticates it).
pub(crate) fn changes_state(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Why a request is refused, if it is.
pub fn refusal(allowed: &AllowedHosts, method: &Method, headers: &HeaderMap) -> Option<ApiError> {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    // Without a Host (HTTP/1.0) the caller is no browser, and DNS rebinding needs a name.
    if let Some(authority) = headers.get(header::HOST)
        && !authority.to_str().is_ok_and(|a| allowed.allows_host(a))
    {
        return Some(ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            "unknown_host",
            "stocksync does not answer for this host name; if it is yours, add it to \
             AllowedHosts in appsettings.json",
        ));
    }
    if !changes_state(method) {
        return None;
    }
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let foreign = match headers.get(header::ORIGIN).map(|v| v.to_str()) {
        // A browser hides the origin ("null") under a no-referrer policy, and in sandboxed
        // frames: then only its word that the request is same-origin will do.
        Some(Ok("null")) => site != Some("same-origin"),
        Some(origin) => !origin.is_ok_and(|origin| allowed.allows_origin(origin, host)),
        None => site.is_some_and(|site| !matches!(site, "same-origin" | "none")),
    };
    foreign.then(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "foreign_origin",
            "a web page of another site cannot change stocksync: the request must come from \
             the dashboard, or from a client that is not a browser",
        )
    })
}

/// The middleware: refuses what [`refusal`] says, but for the webhooks.
pub async fn guard(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if !request.uri().path().starts_with("/webhooks/")
        && let Some(refused) = refusal(&state.hosts, request.method(), request.headers())
    {
        tracing::warn!(
            method = %request.method(),
            path = request.uri().path(),
            code = refused.code,
            "a request from outside was refused"
        );
        return Err(refused);
    }
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn loopback() -> AllowedHosts {
        AllowedHosts::new("127.0.0.1:5000".parse().unwrap(), &[])
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn loopback_names_and_the_listen_address_are_ours() {
        let hosts = loopback();
        for host in [
            "127.0.0.1:5000",
            "localhost:5000",
            "LOCALHOST",
            "[::1]:5000",
            "127.0.0.1",
            "localhost.",
        ] {
            assert!(hosts.allows_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:5000",
            "localhost.evil.example",
            "192.168.1.2:5000",
            "",
            "a/b",
            "127.0.0.1:99999",
        ] {
            assert!(!hosts.allows_host(host), "{host}");
        }
    }

    #[test]
    fn listening_everywhere_accepts_addresses_but_names_only_from_the_list() {
        let hosts = AllowedHosts::new(
            "0.0.0.0:5000".parse().unwrap(),
            &[
                "shop.example".into(),
                "*.stock.example".into(),
                "admin.example:8443".into(),
            ],
        );
        for host in [
            "192.168.1.2:5000",
            "[fe80::1]:5000",
            "shop.example",
            "shop.example:443",
            "a.stock.example",
            "admin.example:8443",
        ] {
            assert!(hosts.allows_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "stock.example",
            "admin.example",
            "xshop.example",
        ] {
            assert!(!hosts.allows_host(host), "{host}");
        }
        let any = AllowedHosts::new("0.0.0.0:5000".parse().unwrap(), &["*".into()]);
        assert!(any.allows_host("whatever.example"));
    }

    #[test]
    fn an_origin_is_ours_when_it_is_the_host_or_a_configured_name() {
        let hosts = AllowedHosts::new("127.0.0.1:5000".parse().unwrap(), &["shop.example".into()]);
        let host = Some("127.0.0.1:5000");
        assert!(hosts.allows_origin("http://127.0.0.1:5000", host));
        assert!(!hosts.allows_origin("http://127.0.0.1:5001", host));
        assert!(!hosts.allows_origin("http://evil.example", host));
        assert!(!hosts.allows_origin("null", host));
        assert!(
            hosts.allows_origin("https://shop.example", host),
            "behind a proxy"
        );
        assert!(hosts.allows_origin("https://shop.example", Some("shop.example")));
        assert!(!hosts.allows_origin("https://evil.example", Some("shop.example")));
        let any = AllowedHosts::new("0.0.0.0:5000".parse().unwrap(), &["*".into()]);
        assert!(!any.allows_origin("http://evil.example", Some("shop.example")));
    }

    #[test]
    fn state_changes_need_our_origin_and_reads_do_not() {
        let hosts = loopback();
        let host = ("host", "127.0.0.1:5000");
        let evil = headers(&[host, ("origin", "http://evil.example")]);
        assert_eq!(
            refusal(&hosts, &Method::POST, &evil).map(|e| e.status),
            Some(StatusCode::FORBIDDEN)
        );
        assert!(refusal(&hosts, &Method::GET, &evil).is_none());
        let cross = headers(&[host, ("sec-fetch-site", "cross-site")]);
        assert!(refusal(&hosts, &Method::DELETE, &cross).is_some());
        let hidden = headers(&[host, ("origin", "null")]);
        assert!(refusal(&hosts, &Method::POST, &hidden).is_some());
        let sandboxed = headers(&[host, ("origin", "null"), ("sec-fetch-site", "cross-site")]);
        assert!(refusal(&hosts, &Method::POST, &sandboxed).is_some());
        let hidden_ours = headers(&[host, ("origin", "null"), ("sec-fetch-site", "same-origin")]);
        assert!(refusal(&hosts, &Method::POST, &hidden_ours).is_none());
        let ours = headers(&[host, ("origin", "http://127.0.0.1:5000")]);
        assert!(refusal(&hosts, &Method::POST, &ours).is_none());
        let curl = headers(&[host]);
        assert!(refusal(&hosts, &Method::POST, &curl).is_none());
        let rebound = headers(&[("host", "evil.example:5000")]);
        assert_eq!(
            refusal(&hosts, &Method::GET, &rebound).map(|e| e.status),
            Some(StatusCode::MISDIRECTED_REQUEST)
        );
    }
}
