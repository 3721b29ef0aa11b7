//! `cantal export`: an HTTP server answering `GET /metrics` with every
//! publisher that `scan` finds, read and rendered by [`Cache`] (in
//! `scrape.rs`).

use crate::fail::{Failure, Result};
use crate::prom::Format;
use crate::scrape::{Cache, Config};
use std::io::Write;
use std::net::SocketAddr;

/// Whether an `Accept` header asks for OpenMetrics.
fn wants_openmetrics(accept: &str) -> bool {
    accept
        .split(',')
        .any(|part| part.trim().starts_with("application/openmetrics-text"))
}

/// Serves until killed.
pub(crate) fn run(listen: SocketAddr, config: Config) -> Result<()> {
    let server = tiny_http::Server::http(listen)
        .map_err(|e| Failure(format!("cannot listen on {listen}: {e}")))?;
    let bound = server
        .server_addr()
        .to_ip()
        .map_or(listen.to_string(), |a| a.to_string());
    {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "cantal export: listening on http://{bound}/metrics");
        let _ = stdout.flush();
    }
    let mut cache = Cache::new(config);
    for request in server.incoming_requests() {
        let path = request.url().split('?').next().unwrap_or("");
        let method = request.method().clone();
        let response = if !matches!(method, tiny_http::Method::Get | tiny_http::Method::Head) {
            text(
                405,
                "text/plain; charset=utf-8",
                "only GET and HEAD\n".into(),
            )
        } else if path == "/metrics" {
            let accept = request
                .headers()
                .iter()
                .find(|h| h.field.equiv("Accept"))
                .map(|h| h.value.as_str().to_string())
                .unwrap_or_default();
            let format = if wants_openmetrics(&accept) {
                Format::OpenMetrics
            } else {
                Format::Prometheus
            };
            let body = cache.scrape(format, None);
            text(200, format.content_type(), body)
        } else if path == "/" {
            text(
                200,
                "text/plain; charset=utf-8",
                "cantal export: metrics at /metrics\n".into(),
            )
        } else {
            text(404, "text/plain; charset=utf-8", "not found\n".into())
        };
        if let Err(e) = request.respond(response) {
            eprintln!("cantal export: cannot answer a request: {e}");
        }
    }
    Ok(())
}

fn text(
    status: u16,
    content_type: &str,
    body: String,
) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let mut response = tiny_http::Response::from_string(body).with_status_code(status);
    if let Ok(h) = tiny_http::Header::from_bytes(&b"Content-Type"[..], content_type.as_bytes()) {
        response.add_header(h);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::wants_openmetrics;

    #[test]
    fn accept() {
        assert!(wants_openmetrics(
            "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
        ));
        assert!(!wants_openmetrics("text/plain;version=0.0.4"));
    }
}
