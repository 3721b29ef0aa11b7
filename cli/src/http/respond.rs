//! The answer to one request: authentication, routing (the telemetry
//! path, the landing page on `/`, 404 elsewhere, 405 for methods other
//! than GET and HEAD), negotiation and the scrape.

use super::auth::Auth;
use super::negotiate;
use super::worker::{Fatal, Job, Stats};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The header in which Prometheus sends its scrape timeout, in seconds.
const SCRAPE_TIMEOUT: &str = "x-prometheus-scrape-timeout-seconds";

/// What every request is answered with.
pub(crate) struct Front {
    /// The path that serves the metrics.
    pub(crate) telemetry_path: String,
    /// Basic authentication, when `basic_auth_users` is not empty.
    pub(crate) auth: Option<Auth>,
    /// The scrape thread's queue.
    pub(crate) jobs: mpsc::Sender<Job>,
    pub(crate) stats: Arc<Stats>,
    pub(crate) fatal: Arc<Fatal>,
}

/// A response with `body`.
fn answer(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A plain-text response.
fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    answer(status, "text/plain; charset=utf-8", text)
}

/// The scraper's timeout from Prometheus's header: a positive number of
/// seconds. The scrape takes its own margin from it.
pub(crate) fn scraper_timeout(seconds: &str) -> Option<Duration> {
    let timeout = Duration::try_from_secs_f64(seconds.trim().parse::<f64>().ok()?).ok()?;
    Some(timeout).filter(|t| !t.is_zero())
}

/// `text` with `&`, `<`, `>` and `"` escaped for HTML.
fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The landing page on `/`.
fn landing(path: &str) -> String {
    let path = html_escape(path);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>cantal export</title></head>\n\
         <body>\n<h1>cantal export</h1>\n<p>The metrics of this host's Cantal publishers, for Prometheus.</p>\n\
         <p><a href=\"{path}\">{path}</a></p>\n</body>\n</html>\n"
    )
}

impl Front {
    /// Answers `request`, and counts the answer.
    pub(crate) async fn respond(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let response = self.route(&request).await;
        self.stats.answered(response.status().as_u16());
        response
    }

    async fn route(&self, request: &Request<Incoming>) -> Response<Full<Bytes>> {
        if let Some(auth) = &self.auth {
            let header = request.headers().get(header::AUTHORIZATION);
            if !auth.allows(header.map(HeaderValue::as_bytes)).await {
                let mut r = plain(StatusCode::UNAUTHORIZED, "unauthorized\n");
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"cantal export\", charset=\"UTF-8\""),
                );
                return r;
            }
        }
        if !matches!(*request.method(), Method::GET | Method::HEAD) {
            let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return r;
        }
        let path = request.uri().path();
        if path == self.telemetry_path {
            self.metrics(request).await
        } else if path == "/" {
            answer(
                StatusCode::OK,
                "text/html; charset=utf-8",
                landing(&self.telemetry_path),
            )
        } else {
            plain(StatusCode::NOT_FOUND, "not found\n")
        }
    }

    async fn metrics(&self, request: &Request<Incoming>) -> Response<Full<Bytes>> {
        let text = |name| {
            request
                .headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .unwrap_or("")
        };
        let format = negotiate::format(text(header::ACCEPT.as_str()));
        let gzip = negotiate::gzip(text(header::ACCEPT_ENCODING.as_str()));
        let (reply, answer_rx) = oneshot::channel();
        let job = Job {
            format,
            gzip,
            timeout: scraper_timeout(text(SCRAPE_TIMEOUT)),
            reply,
        };
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                return plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "too many scrapes waiting\n",
                );
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.fatal.raise("the scrape thread stopped".into());
                return plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the scrape thread stopped\n",
                );
            }
        }
        let Ok(body) = answer_rx.await else {
            self.fatal.raise("the scrape thread stopped".into());
            return plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the scrape thread stopped\n",
            );
        };
        let mut response = answer(StatusCode::OK, format.content_type(), body);
        let headers = response.headers_mut();
        if gzip {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        headers.insert(
            header::VARY,
            HeaderValue::from_static("Accept, Accept-Encoding"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::{landing, scraper_timeout};
    use std::time::Duration;

    #[test]
    fn scraper_timeouts() {
        assert_eq!(scraper_timeout("10"), Some(Duration::from_secs(10)));
        assert_eq!(scraper_timeout(" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(scraper_timeout("0"), None);
        assert_eq!(scraper_timeout("-1"), None);
        assert_eq!(scraper_timeout("soon"), None);
        assert_eq!(scraper_timeout(""), None);
    }

    #[test]
    fn landing_links_the_path() {
        assert!(landing("/m\"x").contains("<a href=\"/m&quot;x\">"));
    }
}
