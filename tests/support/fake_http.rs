//! A fake HTTP provider on loopback for tests: tiny_http on `127.0.0.1:0`,
//! a handler that answers each request, and a log of every request
//! received (method, path with query, headers, body). Faults below HTTP
//! (a reset, a body that stalls) are raw TCP: [`raw_once`].

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// A request as the fake received it.
#[derive(Clone, Debug)]
pub struct Logged {
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    /// Names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Logged {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the fake answers.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// TCP_NODELAY on the listener, which Linux passes on to each accepted
/// connection. Why: tiny_http writes a response's head and body in two
/// writes; with Nagle's algorithm on, the body waits for the client's
/// delayed ACK of the head (about 40 ms) on every request of a kept-alive
/// connection but the first.
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

pub struct Fake {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    log: Arc<Mutex<Vec<Logged>>>,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl Fake {
    pub fn start(handler: impl Fn(&Logged) -> Reply + Send + 'static) -> Fake {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        no_delay(&listener);
        let server =
            Arc::new(tiny_http::Server::from_listener(listener, None).expect("a loopback server"));
        let port = server.server_addr().to_ip().expect("an IP address").port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (s, l) = (server.clone(), log.clone());
        let thread = std::thread::spawn(move || {
            // `unblock` on drop ends the loop.
            while let Ok(mut request) = s.recv() {
                let mut body = Vec::new();
                let _ = request.as_reader().read_to_end(&mut body);
                let logged = Logged {
                    method: request.method().as_str().to_string(),
                    path: request.url().to_string(),
                    headers: request
                        .headers()
                        .iter()
                        .map(|h| {
                            (
                                h.field.as_str().as_str().to_ascii_lowercase(),
                                h.value.as_str().to_string(),
                            )
                        })
                        .collect(),
                    body,
                };
                let reply = handler(&logged);
                l.lock().expect("log").push(logged);
                let mut response =
                    tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
                for (n, v) in reply.headers {
                    if let Ok(h) = tiny_http::Header::from_bytes(n.as_bytes(), v.as_bytes()) {
                        response.add_header(h);
                    }
                }
                let _ = request.respond(response);
            }
        });
        Fake {
            url: format!("http://127.0.0.1:{port}"),
            log,
            server,
            thread: Some(thread),
        }
    }

    pub fn log(&self) -> Vec<Logged> {
        self.log.lock().expect("log").clone()
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A server that accepts one connection, reads the request head, then
/// writes `bytes` and closes, or first waits `stall` after them (a body
/// that stops coming). The thread is not joined: a stalled one ends with
/// the test process.
pub fn raw_once(bytes: &'static [u8], stall: Option<std::time::Duration>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = listener.local_addr().expect("an address").port();
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let _ = stream.write_all(bytes);
            let _ = stream.flush();
            if let Some(d) = stall {
                std::thread::sleep(d);
            }
        }
    });
    format!("http://127.0.0.1:{port}")
}
