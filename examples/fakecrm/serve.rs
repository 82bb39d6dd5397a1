//! The bundled fake's HTTP side: both APIs on one loopback port (their
//! paths do not meet: HubSpot's under `/crm/`, Salesforce's under
//! `/services/`), a throttle shared by both, and the tiny_http loop.

#![allow(dead_code)]

use super::hubspot::Hubspot;
use super::salesforce::Salesforce;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// An answer: status and JSON body (empty for 204), with `Retry-After`.
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub retry_after: Option<u64>,
}

/// Both fakes, and the misbehaviour asked for.
#[derive(Default)]
pub struct Crm {
    pub hubspot: Hubspot,
    pub salesforce: Salesforce,
    /// Answer every Nth HubSpot request 429 with `Retry-After: 1` (0:
    /// never), as HubSpot's burst limit does. Salesforce has no such limit
    /// (it refuses with 403 `REQUEST_LIMIT_EXCEEDED` past a daily quota).
    pub throttle_every: u64,
    requests: u64,
    /// Requests answered 429.
    pub throttled: u64,
    /// Keep every request in `log` (tests; off for the benchmark, whose
    /// 100,000 requests need no record).
    pub logging: bool,
    pub log: Vec<Logged>,
    /// Answer the next `.2` requests whose method is `.0` and whose path
    /// starts with `.1` with 403, the status both provider files declare
    /// `stop`: the side stops at once, its operations left in the outbox
    /// (a daily quota spent). Tests use it to hold a write back.
    pub forbid: Vec<(String, String, u32)>,
}

/// One request as the fake received it, and its answer's status.
#[derive(Clone, Debug)]
pub struct Logged {
    pub method: String,
    /// With its query.
    pub url: String,
    pub body: String,
    pub status: u16,
}

impl Crm {
    pub fn answer(
        &mut self,
        method: &str,
        url: &str,
        authorization: Option<&str>,
        batch_size: Option<&str>,
        body: &[u8],
    ) -> Reply {
        let reply = self.route(method, url, authorization, batch_size, body);
        if self.logging {
            self.log.push(Logged {
                method: method.to_string(),
                url: url.to_string(),
                body: String::from_utf8_lossy(body).into_owned(),
                status: reply.status,
            });
        }
        reply
    }

    /// The requests logged whose method is `method` and whose path (no
    /// query) starts with `prefix`.
    pub fn logged(&self, method: &str, prefix: &str) -> Vec<&Logged> {
        self.log
            .iter()
            .filter(|l| l.method == method && l.url.starts_with(prefix))
            .collect()
    }

    fn route(
        &mut self,
        method: &str,
        url: &str,
        authorization: Option<&str>,
        batch_size: Option<&str>,
        body: &[u8],
    ) -> Reply {
        if let Some(f) = self
            .forbid
            .iter_mut()
            .find(|(m, p, n)| *n > 0 && m == method && url.starts_with(p.as_str()))
        {
            f.2 -= 1;
            return Reply {
                status: 403,
                body: r#"[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#.into(),
                retry_after: None,
            };
        }
        if url.starts_with("/services/") {
            return self
                .salesforce
                .answer(method, url, authorization, batch_size, body);
        }
        self.requests += 1;
        if self.throttle_every > 0 && self.requests.is_multiple_of(self.throttle_every) {
            self.throttled += 1;
            return Reply {
                status: 429,
                body: r#"{"status":"error","message":"You have reached your secondly limit.","category":"RATE_LIMITS"}"#.into(),
                retry_after: Some(1),
            };
        }
        self.hubspot.answer(method, url, authorization, body)
    }
}

/// The fake serving on `addr` (`127.0.0.1:0` for any free port) in a
/// thread, until dropped.
pub struct Running {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

/// Starts serving `crm` on `addr`; `log` prints one line per request
/// (method, path, status) to stdout.
pub fn start(crm: Arc<Mutex<Crm>>, addr: &str, log: bool) -> Result<Running, String> {
    let listener =
        std::net::TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    no_delay(&listener);
    let server = tiny_http::Server::from_listener(listener, None)
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let port = server
        .server_addr()
        .to_ip()
        .map(|a| a.port())
        .ok_or_else(|| format!("{addr} is not an IP address"))?;
    let server = Arc::new(server);
    let s = server.clone();
    let thread = std::thread::spawn(move || {
        // `unblock` on drop ends the loop.
        while let Ok(mut request) = s.recv() {
            let mut body = Vec::new();
            let _ = request.as_reader().read_to_end(&mut body);
            let header = |name: &str| {
                request
                    .headers()
                    .iter()
                    .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
                    .map(|h| h.value.as_str().to_string())
            };
            let authorization = header("Authorization");
            let batch_size = header("Sforce-Query-Options");
            let method = request.method().as_str().to_string();
            let url = request.url().to_string();
            let reply = match crm.lock() {
                Ok(mut c) => c.answer(
                    &method,
                    &url,
                    authorization.as_deref(),
                    batch_size.as_deref(),
                    &body,
                ),
                // A handler that panicked holding the lock: say so, go on.
                Err(_) => Reply {
                    status: 500,
                    body: r#"{"message":"the fake's store is poisoned"}"#.into(),
                    retry_after: None,
                },
            };
            if log {
                println!("fakecrm: {method} {url} -> {}", reply.status);
            }
            let mut response = tiny_http::Response::from_data(reply.body.into_bytes())
                .with_status_code(reply.status);
            let mut headers = vec![("Content-Type", "application/json;charset=utf-8".to_string())];
            if let Some(s) = reply.retry_after {
                headers.push(("Retry-After", s.to_string()));
            }
            for (n, v) in headers {
                if let Ok(h) = tiny_http::Header::from_bytes(n.as_bytes(), v.as_bytes()) {
                    response.add_header(h);
                }
            }
            let _ = request.respond(response);
        }
    });
    Ok(Running {
        url: format!("http://127.0.0.1:{port}"),
        server,
        thread: Some(thread),
    })
}

/// TCP_NODELAY on the listener, which Linux passes on to each accepted
/// connection. Why: tiny_http writes a response's head and body in two
/// writes; with Nagle's algorithm on, the body waits for the client's
/// delayed ACK of the head (about 40 ms) on every request of a kept-alive
/// connection but the first, and a benchmark would measure that wait.
#[cfg(target_os = "linux")]
fn no_delay(listener: &std::net::TcpListener) {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: a valid socket descriptor owned by `listener` for the call,
    // and a pointer to a c_int with its size, as setsockopt requires.
    let _ = unsafe {
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
}

#[cfg(not(target_os = "linux"))]
fn no_delay(_: &std::net::TcpListener) {}

impl Running {
    /// Serves until the process ends.
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
