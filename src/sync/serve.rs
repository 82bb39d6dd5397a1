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
pub(crate) async fn accept_loop(
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
