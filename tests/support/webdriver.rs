//! A small WebDriver client (W3C protocol, JSON over HTTP/1.1 on
//! loopback) for the console's browser test: a chromedriver child, one
//! headless Chromium session, navigation, finding and clicking elements,
//! screenshots and the browser's console log. Hand-written over a
//! `TcpStream` (one request per connection) rather than a WebDriver crate:
//! those pull in an async stack and a second HTTP client for a dozen calls.

use base64::Engine as _;
use serde_json::{Value as Json, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The W3C name of an element reference in answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where a program is on `PATH`, if it is.
pub fn find_program(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
}

fn exchange(port: u16, method: &str, path: &str, body: Option<&Json>) -> Result<Json, String> {
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("chromedriver: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let body = body.map(Json::to_string).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(req.as_bytes())
        .map_err(|e| e.to_string())?;
    // chromedriver keeps the connection open whatever the request says:
    // read the head, then exactly its Content-Length (or to the end).
    let mut raw = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        let n = stream.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&raw);
        if let Some((head, rest)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())
                    .flatten()
            });
            if length.is_some_and(|n| rest.len() >= n) {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no answer head: {text}"))?;
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        let mut out = String::new();
        let mut rest = rest;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 || after.len() < n {
                break;
            }
            out.push_str(&after[..n]);
            rest = after[n..].trim_start_matches("\r\n");
        }
        out
    } else {
        rest.to_string()
    };
    let json: Json = serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
    if json["value"]["error"].is_string() {
        return Err(format!("{method} {path}: {}", json["value"]));
    }
    Ok(json["value"].clone())
}

impl Browser {
    /// Starts chromedriver on a free loopback port and a headless
    /// Chromium session with a laptop-sized window.
    pub fn start(chromium: &Path, driver: &Path) -> Result<Browser, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("chromedriver: {e}"))?;
        let mut browser = Browser {
            driver: child,
            port,
            session: String::new(),
        };
        let mut ready = false;
        for _ in 0..100 {
            if exchange(port, "GET", "/status", None).is_ok_and(|v| v["ready"] == true) {
                ready = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if !ready {
            return Err("chromedriver did not become ready".into());
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.to_string_lossy(),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1366,900"],
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let v = exchange(port, "POST", "/session", Some(&caps))?;
        browser.session = v["sessionId"]
            .as_str()
            .ok_or_else(|| format!("no session: {v}"))?
            .to_string();
        Ok(browser)
    }

    fn call(&self, method: &str, path: &str, body: Option<&Json>) -> Result<Json, String> {
        let path = format!("/session/{}{path}", self.session);
        exchange(self.port, method, &path, body)
    }

    pub fn go(&self, url: &str) -> Result<(), String> {
        self.call("POST", "/url", Some(&json!({"url": url})))
            .map(|_| ())
    }

    /// The element an XPath finds (the first), clicked.
    pub fn click(&self, xpath: &str) -> Result<(), String> {
        let v = self.call(
            "POST",
            "/element",
            Some(&json!({"using": "xpath", "value": xpath})),
        )?;
        let id = v[ELEMENT]
            .as_str()
            .ok_or_else(|| format!("no element {xpath}: {v}"))?
            .to_string();
        self.call("POST", &format!("/element/{id}/click"), Some(&json!({})))
            .map(|_| ())
    }

    /// The page's HTML as the browser holds it.
    pub fn source(&self) -> Result<String, String> {
        self.call("GET", "/source", None)
            .map(|v| v.as_str().unwrap_or_default().to_string())
    }

    pub fn title(&self) -> Result<String, String> {
        self.call("GET", "/title", None)
            .map(|v| v.as_str().unwrap_or_default().to_string())
    }

    /// A PNG of the window, written to `to`.
    pub fn screenshot(&self, to: &Path) -> Result<(), String> {
        let v = self.call("GET", "/screenshot", None)?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .map_err(|e| e.to_string())?;
        std::fs::write(to, png).map_err(|e| e.to_string())
    }

    /// The browser's console log since the last call (chromedriver's
    /// log endpoint): every entry, as (level, message).
    pub fn log(&self) -> Result<Vec<(String, String)>, String> {
        let v = self.call("POST", "/se/log", Some(&json!({"type": "browser"})))?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        (
                            e["level"].as_str().unwrap_or_default().to_string(),
                            e["message"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.call("DELETE", "", None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
