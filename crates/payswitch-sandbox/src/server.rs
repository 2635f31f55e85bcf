//! The HTTP server: a hand-written accept loop (so a fault can close a TCP
//! connection without any HTTP response), request dispatch to the gateway,
//! page and admin handlers, request recording and fault application.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;

use crate::access::{self, Presented, Route};
use crate::app::App;
use crate::faults::FaultKind;
use crate::gateways::request::GatewayRequest;
use crate::lifecycle::{flush, sweep_and_flush};
use crate::respond::{header_pairs, plain};
use crate::state::{push_bounded, recorded_body, redact_headers, Gateway, RecordedRequest};
use crate::{admin, gateways, pages, portal};

/// Largest request body accepted; larger bodies get 413.
pub(crate) const BODY_LIMIT: usize = 1024 * 1024;

/// How long a client may take to send the request body.
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a client may take to send the request head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long one write may wait for a client to read, so a client that never reads does not
/// hold its connection (and its slot) forever.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// Lets a request handler close its own TCP connection.
pub(crate) struct ConnectionKiller {
    notify: Notify,
    killed: AtomicBool,
}

impl ConnectionKiller {
    /// Marks the connection for a reset and wakes its task, which drops it.
    fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }
}

/// A TCP stream that resets (RST) instead of closing gracefully when its
/// connection was killed, so the client sees a broken connection and never
/// a partial or empty HTTP response.
struct KillableStream {
    inner: TcpStream,
    killer: Arc<ConnectionKiller>,
    /// Started when a write or flush cannot proceed; cleared when one does.
    write_deadline: Option<Pin<Box<Sleep>>>,
}

impl KillableStream {
    /// Turns a pending write into a `TimedOut` error once [`WRITE_TIMEOUT`] has passed
    /// without progress.
    fn bound_write<T>(
        &mut self,
        cx: &mut Context<'_>,
        poll: Poll<std::io::Result<T>>,
    ) -> Poll<std::io::Result<T>> {
        if poll.is_ready() {
            self.write_deadline = None;
            return poll;
        }
        let deadline = self
            .write_deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(WRITE_TIMEOUT)));
        match deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the client did not read the response in time",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for KillableStream {
    fn drop(&mut self) {
        if self.killer.killed.load(Ordering::SeqCst) {
            // Zero linger only on killed connections: on normal ones it would
            // discard unsent response bytes.
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for KillableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.bound_write(cx, poll)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        self.bound_write(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Accepts connections until shutdown is signalled, at most one per permit of `connections`
/// at a time: past the cap, new connections wait in the listen backlog until one closes.
pub(crate) async fn serve(listener: TcpListener, app: Arc<App>, connections: Arc<Semaphore>) {
    let mut shutdown = app.shutdown.clone();
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            _ = shutdown.changed() => break,
        };
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    tokio::spawn(serve_connection(stream, Arc::clone(&app), permit));
                }
                Err(error) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            _ = shutdown.changed() => break,
        }
    }
}

async fn serve_connection(stream: TcpStream, app: Arc<App>, _slot: OwnedSemaphorePermit) {
    let _ = stream.set_nodelay(true);
    let killer = Arc::new(ConnectionKiller {
        notify: Notify::new(),
        killed: AtomicBool::new(false),
    });
    let io = TokioIo::new(KillableStream {
        inner: stream,
        killer: Arc::clone(&killer),
        write_deadline: None,
    });
    let mut shutdown = app.shutdown.clone();
    let service_app = Arc::clone(&app);
    let service_killer = Arc::clone(&killer);
    let service = hyper::service::service_fn(move |request: http::Request<Incoming>| {
        let app = Arc::clone(&service_app);
        let killer = Arc::clone(&service_killer);
        async move { Ok::<_, Infallible>(dispatch(app, killer, request).await) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true);
    let connection = builder.serve_connection(io, service);
    tokio::select! {
        _ = connection => {}
        _ = killer.notify.notified() => {}
        _ = shutdown.changed() => {}
    }
}

/// Routes one request: admin API, pages, or a gateway with faults applied around it.
async fn dispatch(
    app: Arc<App>,
    killer: Arc<ConnectionKiller>,
    request: http::Request<Incoming>,
) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let route = Route::of(&path);
    let gateway = gateways::owner(&path, &parts.headers);
    let bytes = match read_body(gateway, &parts.headers, body).await {
        Ok(bytes) => bytes,
        Err(response) => return response,
    };
    let presented = Presented {
        method: &parts.method,
        route,
        target_authority: parts.uri.authority().map(http::uri::Authority::as_str),
        headers: &parts.headers,
        body_is_empty: bytes.is_empty(),
    };
    if let Err(refusal) = access::check(&presented, app.config.admin_token.as_deref()) {
        return plain(refusal.status, refusal.message);
    }

    if route == Route::Admin {
        let with_secrets =
            access::has_admin_token(&parts.headers, app.config.admin_token.as_deref());
        let response = admin::handle(&app, &parts.method, &path, with_secrets, &bytes);
        flush(&app);
        return response;
    }
    if route == Route::Page {
        sweep_and_flush(&app);
        let response = if path.starts_with("/portal/") {
            portal::handle(&app, &parts.method, &path, &bytes)
        } else {
            pages::handle(&app, &parts.method, &path, &query, &bytes)
        };
        flush(&app);
        return response;
    }
    let request = GatewayRequest {
        method: &parts.method,
        path: &path,
        query: &query,
        headers: &parts.headers,
        body: &bytes,
    };
    match answer_gateway(&app, gateway, &request).await {
        Some(response) => response,
        None => drop_connection(&killer).await,
    }
}

/// Reads the body up to [`BODY_LIMIT`], answering 413 or 408 when it cannot.
async fn read_body(
    gateway: Gateway,
    headers: &http::HeaderMap,
    body: Incoming,
) -> Result<axum::body::Bytes, Response> {
    let declared_length = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared_length.is_some_and(|length| length > BODY_LIMIT as u64) {
        return Err(gateways::too_large_response(gateway, BODY_LIMIT));
    }
    match tokio::time::timeout(
        BODY_READ_TIMEOUT,
        axum::body::to_bytes(Body::new(body), BODY_LIMIT),
    )
    .await
    {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(gateways::too_large_response(gateway, BODY_LIMIT)),
        Err(_) => Err(plain(StatusCode::REQUEST_TIMEOUT, "request body timed out")),
    }
}

/// Answers a gateway request, applying the first matching fault and recording the request;
/// `None` when a fault says the connection is dropped instead of answered.
pub(crate) async fn answer_gateway(
    app: &Arc<App>,
    gateway: Gateway,
    request: &GatewayRequest<'_>,
) -> Option<Response> {
    let fault = {
        let mut state = app.lock();
        crate::faults::take_matching(&mut state.faults, request.method, request.path)
    };
    let (body, body_truncated) = recorded_body(request.body);
    let record = RecordedRequest {
        method: request.method.to_string(),
        path: request.path.to_owned(),
        query: request.query.to_owned(),
        headers: redact_headers(header_pairs(request.headers)),
        body,
        body_truncated,
        response_status: None,
    };
    let log = |record: RecordedRequest| {
        push_bounded(&mut app.lock().requests, record, app.config.log_capacity);
    };
    let answered = |mut record: RecordedRequest, response: Response| {
        record.response_status = Some(response.status().as_u16());
        log(record);
        Some(response)
    };
    match &fault {
        Some(FaultKind::Respond {
            status,
            retry_after_seconds,
        }) => {
            let response = gateways::fault_response(gateway, *status, *retry_after_seconds);
            return answered(record, response);
        }
        Some(FaultKind::DropConnection) => {
            log(record);
            return None;
        }
        _ => {}
    }
    // The request counts as executing from here, through any delay, until it is answered.
    let in_flight = match gateways::begin(gateway, app, request.method, request.headers) {
        Ok(in_flight) => in_flight,
        Err(response) => return answered(record, *response),
    };
    if let Some(FaultKind::Delay { millis }) = &fault {
        tokio::time::sleep(Duration::from_millis(*millis)).await;
    }
    let fail_with = match &fault {
        Some(FaultKind::FailDuringExecution { status }) => {
            Some(StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        }
        _ => None,
    };
    sweep_and_flush(app);
    let response = gateways::handle(gateway, app, request, fail_with);
    drop(in_flight);
    flush(app);
    match fault {
        Some(FaultKind::ProcessThenDrop) => {
            log(record);
            None
        }
        Some(FaultKind::ProcessThenFail { status }) => {
            answered(record, gateways::fault_response(gateway, status, None))
        }
        _ => answered(record, response),
    }
}

/// Kills the connection and never answers: the connection task drops the
/// socket as soon as it is woken.
async fn drop_connection(killer: &ConnectionKiller) -> Response {
    killer.kill();
    std::future::pending::<Response>().await
}
