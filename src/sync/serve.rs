//! The accept loop of tether's HTTP servers (the webhook receiver, the
//! metrics endpoint, the console): hyper's HTTP/1.1 with a timer, so a header timeout
//! holds (axum's own `serve` gives hyper none), at most `max_connections`
//! at once, and one request per connection.

use std::time::Duration;

/// Serves `router` on `listener` until `stopped` fires (or its sender is
/// dropped).
///
/// One request per connection: hyper's header timeout starts again with
/// each request of a kept-alive connection, so a client trickling small
/// requests could hold a slot for ever. Closed after its answer, a
/// connection lives at most the header timeout plus what the router
/// allows a request.
async fn accept_loop(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    max_connections: usize,
    header_timeout: Duration,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let connections = std::sync::Arc::new(tokio::sync::Semaphore::new(max_connections.max(1)));
    loop {
        let permit = tokio::select! {
            _ = &mut stopped => return,
            p = std::sync::Arc::clone(&connections).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
        };
        let stream = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors, or a connection reset before it
                // was accepted: wait a little rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout)
                .keep_alive(false);
            // A connection's errors (a reset, a timeout, bad HTTP) are the
            // client's; hyper has already answered what it could.
            let _ = http
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Binds `listen` now, so a taken port is an error for the caller rather
/// than in the server's thread; the listener and the address bound (the
/// port chosen when `listen` said 0).
pub(crate) fn bind(
    listen: std::net::SocketAddr,
) -> std::io::Result<(std::net::TcpListener, std::net::SocketAddr)> {
    let listener = std::net::TcpListener::bind(listen)?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// A server on a thread of its own, with a current-thread tokio runtime,
/// serving `router` through [`accept_loop`]; stopped and joined when
/// dropped.
pub(crate) struct ServerThread {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ServerThread {
    /// `name` names the thread (`tether-NAME`) and the server in the one
    /// error that can only happen inside it.
    pub(crate) fn start(
        name: &'static str,
        listener: std::net::TcpListener,
        router: axum::Router,
        max_connections: usize,
        header_timeout: Duration,
    ) -> std::io::Result<ServerThread> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("tether-{name}"))
            .spawn(move || {
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => {
                            accept_loop(listener, router, max_connections, header_timeout, stopped)
                                .await
                        }
                        Err(e) => eprintln!("error: {name}: {e}"),
                    }
                })
            })?;
        Ok(ServerThread {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for ServerThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
