//! A fake HTTP provider on loopback that can also misbehave below HTTP,
//! for the fault and crash suites (issue 19): raw TCP on `127.0.0.1:0`,
//! one thread per connection, one request per connection (every answer
//! says `Connection: close`, so no fault can hide in a pooled
//! connection). Each request is logged with the instant it arrived, so a
//! test can check that nothing was sent during a `Retry-After` or while a
//! breaker was open.
//!
//! A [`Fault`] chosen per request by the test's rule replaces the answer:
//! `Reset` closes the connection after reading the request, without
//! acting on it or answering; `SlowBody` acts on it, sends the head and
//! half the body, then stalls (the client's request timeout must end it).
//!
//! Requests are HTTP/1.1 with a `Content-Length` body (what tether's
//! client sends); anything else is read as far as it goes.

#![allow(dead_code)]

use super::fake_http::{Logged, Reply};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The connection closed once the request is read: no answer, and the
    /// request not acted on.
    Reset,
    /// Acted on, then the answer's body stalls this long halfway.
    SlowBody(Duration),
}

/// A request received: when it arrived, what it was, the fault it got.
pub type Entry = (Instant, Logged, Option<Fault>);
type Log = Mutex<Vec<Entry>>;
type Handler = dyn Fn(&Logged) -> Reply + Send + Sync;
/// Which fault, if any, request number `n` (from 0) gets.
type Rule = dyn Fn(usize, &Logged) -> Option<Fault> + Send + Sync;

pub struct Faulty {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    log: Arc<Log>,
    stop: Arc<AtomicBool>,
    port: u16,
}

impl Faulty {
    pub fn start(
        handler: impl Fn(&Logged) -> Reply + Send + Sync + 'static,
        rule: impl Fn(usize, &Logged) -> Option<Fault> + Send + Sync + 'static,
    ) -> Faulty {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("an address").port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let rule: Arc<Rule> = Arc::new(rule);
        let count = Arc::new(AtomicUsize::new(0));
        let (l, s) = (log.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (l, h, r, c) = (l.clone(), handler.clone(), rule.clone(), count.clone());
                std::thread::spawn(move || serve(stream, &l, &*h, &*r, &c));
            }
        });
        Faulty {
            url: format!("http://127.0.0.1:{port}"),
            log,
            stop,
            port,
        }
    }

    /// Every request received, in order.
    pub fn log(&self) -> Vec<Logged> {
        self.timed().into_iter().map(|(_, r, _)| r).collect()
    }

    /// Every request with the instant it arrived and the fault it got.
    pub fn timed(&self) -> Vec<Entry> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Drop for Faulty {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees `stop`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(stream: TcpStream, log: &Log, handler: &Handler, rule: &Rule, count: &AtomicUsize) {
    // A client that stops sending cannot hold the thread for ever.
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = request_line.split_whitespace();
    let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
        return;
    };
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((n, v)) = line.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    if reader.read_exact(&mut body).is_err() {
        body.clear();
    }
    let logged = Logged {
        method: method.to_string(),
        path: path.to_string(),
        headers,
        body,
    };
    let arrived = Instant::now();
    let n = count.fetch_add(1, Ordering::SeqCst);
    let fault = rule(n, &logged);
    if let Ok(mut l) = log.lock() {
        l.push((arrived, logged.clone(), fault));
    }
    if fault == Some(Fault::Reset) {
        return;
    }
    let reply = handler(&logged);
    let mut head = format!("HTTP/1.1 {} Fault\r\n", reply.status);
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        reply.body.len()
    ));
    let _ = writer.write_all(head.as_bytes());
    match fault {
        Some(Fault::SlowBody(stall)) => {
            let half = reply.body.len() / 2;
            let _ = writer.write_all(&reply.body[..half]);
            let _ = writer.flush();
            std::thread::sleep(stall);
        }
        _ => {
            let _ = writer.write_all(&reply.body);
            let _ = writer.flush();
        }
    }
}
