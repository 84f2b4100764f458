//! What the POS simulators are built from: a server on a free loopback port, fault injection
//! that each simulator turns into its vendor's own failure answers, a generated catalog, and a
//! seeded random generator so that every run is reproducible.

use axum::Router;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A simulator listening on `127.0.0.1`, stopped when dropped.
pub struct SimServer {
    pub address: SocketAddr,
    shutdown: CancellationToken,
}

impl SimServer {
    /// Serves `router` on `127.0.0.1:port` (0 for any free port).
    pub async fn start(router: Router, port: u16) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let address = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
            if let Err(err) = served {
                tracing::warn!(error = %err, "a POS simulator stopped");
            }
        });
        Ok(Self { address, shutdown })
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// What to do wrong, set by tests (or by hand) while a simulator runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultPlan {
    /// Share of requests, from 0 to 1, answered with a server error.
    pub error_rate: f64,
    /// Added to every answer.
    pub latency: Duration,
    /// The next N requests go through untouched before the "next N" faults below apply.
    pub pass_next: u32,
    /// The next N requests are answered "rate limited" (429).
    pub rate_limit_next: u32,
    /// The next N requests are answered with a server error.
    pub fail_next: u32,
    /// The next N requests get no answer: the connection is closed.
    pub drop_next: u32,
    /// The next N requests are carried out, then their connection is closed before the answer
    /// (the client cannot know whether its write happened).
    pub lose_answer_next: u32,
    /// The next N requests are answered `foreign_status` by something in front of the POS (a
    /// proxy, a load balancer): an HTML page, never the vendor's JSON; nothing is carried out.
    pub foreign_next: u32,
    pub foreign_status: u16,
}

/// What one request should suffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    None,
    RateLimited,
    ServerError,
    Drop,
    LoseAnswer,
    /// Answered with this status by a proxy (see [`foreign_answer`]).
    Foreign(u16),
}

/// A fault plan shared by a simulator's handlers.
#[derive(Debug)]
pub struct Faults {
    plan: Mutex<FaultPlan>,
    rng: Mutex<Rng>,
}

impl Default for Faults {
    fn default() -> Self {
        Self::seeded(1)
    }
}

impl Faults {
    pub fn seeded(seed: u64) -> Self {
        Self {
            plan: Mutex::new(FaultPlan::default()),
            rng: Mutex::new(Rng::new(seed)),
        }
    }

    pub fn set(&self, plan: FaultPlan) {
        *self.plan.lock().expect("fault plan") = plan;
    }

    pub fn plan(&self) -> FaultPlan {
        self.plan.lock().expect("fault plan").clone()
    }

    /// Decides the fate of one request (and consumes the "next N" counters).
    pub fn decide(&self) -> (Fault, Duration) {
        let mut plan = self.plan.lock().expect("fault plan");
        let latency = plan.latency;
        let take = |counter: &mut u32| {
            if *counter > 0 {
                *counter -= 1;
                true
            } else {
                false
            }
        };
        let fault = if take(&mut plan.pass_next) {
            Fault::None
        } else if take(&mut plan.drop_next) {
            Fault::Drop
        } else if take(&mut plan.rate_limit_next) {
            Fault::RateLimited
        } else if take(&mut plan.fail_next) {
            Fault::ServerError
        } else if take(&mut plan.foreign_next) {
            Fault::Foreign(plan.foreign_status)
        } else if take(&mut plan.lose_answer_next) {
            Fault::LoseAnswer
        } else if plan.error_rate > 0.0 && self.rng.lock().expect("rng").unit() < plan.error_rate {
            Fault::ServerError
        } else {
            Fault::None
        };
        (fault, latency)
    }
}

/// What a proxy or load balancer in front of the POS answers: `status` with an HTML page.
pub fn foreign_answer(status: u16) -> axum::response::Response {
    use axum::response::IntoResponse;
    let status =
        axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::BAD_GATEWAY);
    let page = format!("<html><body><h1>{status}</h1><hr>nginx</body></html>");
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "text/html")],
        page,
    )
        .into_response()
}

/// Ends the request without an answer: the handler's task panics, and the server closes the
/// connection. (The panic is expected; it is the only way to drop a connection from a handler.)
pub fn drop_connection() -> ! {
    std::panic::panic_any(DroppedConnection)
}

/// The panic payload of [`drop_connection`], so that test output can tell it apart.
#[derive(Debug)]
pub struct DroppedConnection;

/// A small deterministic random generator (xorshift64*): simulators must be reproducible.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A number in `range`.
    pub fn between(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next_u64() % ((high - low + 1).max(1) as u64)) as i64
    }
}

/// A product of a generated catalog, before a simulator gives it its vendor's shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimProduct {
    pub name: String,
    pub sku: String,
    pub quantity: i64,
}

/// `count` products with distinct names and SKUs and quantities from 0 to 40, the same for the
/// same seed.
pub fn catalog(count: usize, seed: u64) -> Vec<SimProduct> {
    const COLOURS: [&str; 6] = ["Red", "Blue", "Green", "Black", "White", "Yellow"];
    const THINGS: [&str; 8] = [
        "Mug", "Scarf", "Teapot", "Notebook", "Candle", "Bowl", "Tote bag", "Poster",
    ];
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|i| SimProduct {
            name: format!(
                "{} {} {:05}",
                COLOURS[i % COLOURS.len()],
                THINGS[(i / COLOURS.len()) % THINGS.len()],
                i
            ),
            sku: format!("SKU-{i:06}"),
            quantity: rng.between(0, 40),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogs_are_reproducible_and_distinct() {
        let a = catalog(100, 7);
        assert_eq!(a, catalog(100, 7));
        assert_ne!(a, catalog(100, 8));
        let names: std::collections::HashSet<_> = a.iter().map(|p| &p.name).collect();
        assert_eq!(names.len(), 100);
        assert!(a.iter().all(|p| (0..=40).contains(&p.quantity)));
    }

    #[test]
    fn next_n_faults_are_consumed_in_order() {
        let faults = Faults::default();
        faults.set(FaultPlan {
            rate_limit_next: 2,
            fail_next: 1,
            ..FaultPlan::default()
        });
        let fates: Vec<Fault> = (0..4).map(|_| faults.decide().0).collect();
        assert_eq!(
            fates,
            [
                Fault::RateLimited,
                Fault::RateLimited,
                Fault::ServerError,
                Fault::None
            ]
        );
        faults.set(FaultPlan {
            pass_next: 1,
            foreign_next: 1,
            foreign_status: 404,
            ..FaultPlan::default()
        });
        let fates: Vec<Fault> = (0..3).map(|_| faults.decide().0).collect();
        assert_eq!(fates, [Fault::None, Fault::Foreign(404), Fault::None]);
    }

    #[test]
    fn the_error_rate_is_roughly_kept() {
        let faults = Faults::seeded(3);
        faults.set(FaultPlan {
            error_rate: 0.3,
            ..FaultPlan::default()
        });
        let errors = (0..10_000)
            .filter(|_| faults.decide().0 == Fault::ServerError)
            .count();
        assert!((2_700..3_300).contains(&errors), "{errors}");
    }
}
