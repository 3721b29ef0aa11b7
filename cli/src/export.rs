//! `cantal export`: an HTTP server answering `GET /metrics` with every
//! publisher that `scan` finds.
//!
//! Meta files are immutable, so each publisher's parsed [`Layout`] is kept
//! between scrapes, keyed by the meta file's identity (device, inode, size,
//! modification time): a scrape then reads only the values file (and
//! checks the meta file's identity again afterwards, reading everything
//! anew when it changed).

use crate::fail::{Failure, Result};
use crate::load::{Layout, Reading};
use crate::prom::{self, Format, Options, Prepared, Scraped};
use crate::scan::{self, Status};
use crate::target::{Source, with_suffix};
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What identifies a version of a meta file.
type Identity = (u64, u64, u64, i64, i64);

fn identity(path: &Path) -> std::io::Result<Identity> {
    let m = fs::symlink_metadata(path)?;
    Ok((m.dev(), m.ino(), m.size(), m.mtime(), m.mtime_nsec()))
}

/// A meta file parsed, and made ready to render for its source.
struct Parsed {
    /// The meta file's identity when it was read.
    identity: Identity,
    layout: Arc<Layout>,
    prepared: Arc<Prepared>,
    /// The source it was prepared for.
    source: Source,
    /// The help side file's identity when it was read (a publisher may
    /// write it after its meta file).
    help: Option<Identity>,
}

/// The parsed layouts, by base path.
#[derive(Default)]
pub(crate) struct Cache {
    layouts: HashMap<PathBuf, Parsed>,
    /// The last error logged per base path, so a broken publisher is
    /// logged once per change, not once per scrape.
    logged: HashMap<PathBuf, String>,
}

/// A publisher as read for one scrape.
struct Scrape {
    prepared: Arc<Prepared>,
    readings: Vec<Reading>,
    alive: bool,
}

impl Cache {
    /// Reads one publisher, reusing its layout when its meta is unchanged.
    fn read(&mut self, source: &Source) -> Result<Scrape> {
        let base = source.base.as_path();
        let meta_path = with_suffix(base, ".meta");
        let values_path = with_suffix(base, ".values");
        if let (Ok(before), Some(parsed)) = (identity(&meta_path), self.layouts.get(base))
            && before == parsed.identity
            && parsed.source == *source
            && identity(&with_suffix(base, ".help")).ok() == parsed.help
        {
            let (layout, prepared) = (Arc::clone(&parsed.layout), Arc::clone(&parsed.prepared));
            let values = read_values(&values_path)?;
            let alive = cantal_mmap::read::is_alive(base)?;
            if identity(&meta_path).is_ok_and(|after| after == before) {
                let readings = layout.read(&values, &values_path)?;
                return Ok(Scrape {
                    prepared,
                    readings,
                    alive,
                });
            }
        }
        let before = identity(&meta_path).ok();
        let help = identity(&with_suffix(base, ".help")).ok();
        let snapshot = cantal_mmap::read::read(base)?;
        let after = identity(&meta_path).ok();
        let layout = Arc::new(Layout::parse(&snapshot.meta, &meta_path)?);
        let prepared = Arc::new(prom::prepare(source, &layout));
        let readings = layout.read(&snapshot.values, &values_path)?;
        if let Some(identity) = before.filter(|b| Some(*b) == after) {
            self.layouts.insert(
                base.to_path_buf(),
                Parsed {
                    identity,
                    layout,
                    prepared: Arc::clone(&prepared),
                    source: source.clone(),
                    help,
                },
            );
        }
        Ok(Scrape {
            prepared,
            readings,
            alive: snapshot.alive,
        })
    }

    /// Logs `error` for `base` unless it is what was logged last time.
    fn log(&mut self, base: &Path, error: Option<&str>) {
        match error {
            Some(e) => {
                if self.logged.get(base).map(String::as_str) != Some(e) {
                    eprintln!("cantal export: skipping {}: {e}", base.display());
                    self.logged.insert(base.to_path_buf(), e.to_string());
                }
            }
            None => {
                self.logged.remove(base);
            }
        }
    }

    /// One scrape: every publisher, rendered.
    fn scrape(&mut self, options: Options, format: Format) -> String {
        self.scrape_sources(scan::discover(), options, format)
    }

    /// One scrape of `sources`, rendered.
    pub(crate) fn scrape_sources(
        &mut self,
        sources: Vec<Source>,
        options: Options,
        format: Format,
    ) -> String {
        let mut results: Vec<(Source, Option<Scrape>, bool)> = Vec::new();
        for source in sources {
            match self.read(&source) {
                Ok(read) => {
                    let status = scan::status(&source, read.alive);
                    let up = status.is_up();
                    if status == Status::Stale {
                        self.log(&source.base, Some("stale: no process holds it"));
                    } else {
                        self.log(&source.base, None);
                    }
                    results.push((source, Some(read).filter(|_| up), up));
                }
                Err(e) => {
                    self.log(&source.base, Some(&e.0));
                    results.push((source, None, false));
                }
            }
        }
        // Forget publishers that are gone.
        self.layouts
            .retain(|base, _| results.iter().any(|(s, _, _)| &s.base == base));
        self.logged
            .retain(|base, _| results.iter().any(|(s, _, _)| &s.base == base));
        let scraped: Vec<Scraped<'_>> = results
            .iter()
            .map(|(source, read, up)| Scraped {
                source,
                up: *up,
                metrics: read
                    .as_ref()
                    .map(|r| (r.prepared.as_ref(), r.readings.as_slice())),
            })
            .collect();
        prom::render(&scraped, options, format)
    }
}

/// Reads a values file: a regular file (not a symlink), at most
/// `VALUES_LIMIT` bytes.
fn read_values(path: &Path) -> Result<Vec<u8>> {
    let fail = |e: &dyn std::fmt::Display| Failure(format!("{}: {e}", path.display()));
    let before = fs::symlink_metadata(path).map_err(|e| fail(&e))?;
    if !before.is_file() {
        return Err(fail(&"not a regular file"));
    }
    let file = File::open(path).map_err(|e| fail(&e))?;
    let opened = file.metadata().map_err(|e| fail(&e))?;
    if (opened.dev(), opened.ino()) != (before.dev(), before.ino()) {
        return Err(fail(&"replaced while being opened"));
    }
    let limit = cantal_mmap::read::VALUES_LIMIT;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(&e))?;
    if bytes.len() as u64 > limit {
        return Err(fail(&format_args!("larger than {limit} bytes")));
    }
    Ok(bytes)
}

/// Whether an `Accept` header asks for OpenMetrics.
fn wants_openmetrics(accept: &str) -> bool {
    accept
        .split(',')
        .any(|part| part.trim().starts_with("application/openmetrics-text"))
}

/// Serves until killed.
pub(crate) fn run(listen: SocketAddr, options: Options) -> Result<()> {
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
    let mut cache = Cache::default();
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
            let body = cache.scrape(options, format);
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
