//! `cantal`: read, watch, find and export the metrics that processes
//! publish with the Cantal protocol (`P.meta` and `P.values` files).
//!
//! ```text
//! cantal read /run/user/1000/myapp        # a table of every metric
//! cantal read --json 4242                 # the metrics of process 4242, as JSON lines
//! cantal watch --interval 2 4242          # live values and per-second rates
//! cantal scan                             # every publisher on this machine
//! cantal export --listen 127.0.0.1:9779   # serve them all to Prometheus
//! ```
//!
//! Errors go to stderr as one line naming the file (`cantal:
//! /run/x.meta: meta line 3, column 17: ...`) with exit status 1; usage
//! errors exit with status 2.
//!
//! This library is the command itself (`src/main.rs` calls [`main`]); it
//! is a library so that the benchmarks can drive the exporter ([`mod@bench`]).
#![forbid(unsafe_code)]

pub mod bench;
mod cgroup;
mod export;
mod fail;
mod health;
mod http;
mod json_lines;
mod load;
mod owner;
mod privilege;
mod procfs;
mod prom;
mod push;
mod read;
mod scan;
mod scrape;
mod select;
mod table;
mod target;
mod watch;
mod workers;

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use std::time::Duration;

/// Read, watch, find and export the metrics of Cantal publishers.
#[derive(Debug, Parser)]
#[command(name = "cantal", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// One value, parsed once per process from its arguments: the size of the
// `export` variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Print the metrics of one or more publishers, once.
    ///
    /// A TARGET is a base path P (files P.meta and P.values), one of those
    /// two files, or a process id: the process's CANTAL_PATH, else its
    /// default path ($XDG_RUNTIME_DIR/cantal.PID or /tmp/cantal.UID.PID).
    ///
    /// Example: cantal read --json /run/user/1000/myapp
    #[command(
        after_help = "Examples:\n  cantal read /run/user/1000/myapp\n  cantal read --json 4242"
    )]
    Read {
        /// One JSON object per metric per line, in file order (pads omitted).
        #[arg(long)]
        json: bool,
        /// Base paths, .meta/.values files or process ids.
        #[arg(required = true, value_name = "TARGET")]
        targets: Vec<String>,
    },
    /// Redraw one publisher's metrics every interval, with per-second rates.
    ///
    /// Stops on Ctrl-C, or when the publisher goes away (its files are
    /// removed, or the lock it held is released).
    ///
    /// Example: cantal watch --interval 2 /run/user/1000/myapp
    #[command(after_help = "Example:\n  cantal watch --interval 2 /run/user/1000/myapp")]
    Watch {
        /// Seconds between two frames.
        #[arg(long, default_value_t = 1.0, value_parser = parse_interval)]
        interval: f64,
        /// Stop after this many frames.
        #[arg(long, value_name = "N")]
        count: Option<u64>,
        /// A base path, a .meta/.values file or a process id.
        #[arg(value_name = "TARGET")]
        target: String,
    },
    /// List the publishers on this machine.
    ///
    /// Finds processes whose environment has CANTAL_PATH, and files
    /// cantal.* at the default paths under $XDG_RUNTIME_DIR and /tmp
    /// (narrowed or widened by --pid, --dir, --no-proc, --no-default-dirs).
    ///
    /// Example: cantal scan --json
    #[command(
        after_help = "Examples:\n  cantal scan\n  cantal scan --no-proc --no-default-dirs --dir /run/myapp"
    )]
    Scan {
        /// One JSON object per publisher per line.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        discovery: scan::Discovery,
    },
    /// Serve every publisher found by `scan` to Prometheus over HTTP.
    ///
    /// GET /metrics (--web.telemetry-path) answers in the Prometheus text
    /// format 0.0.4, or in OpenMetrics 1.0 when the Accept header prefers
    /// application/openmetrics-text (q-values count: q=0 refuses it), gzip
    /// when Accept-Encoding accepts it; GET / is a landing page linking to
    /// it. TLS and basic auth come from --web.config.file, the Prometheus
    /// exporter-toolkit file. SIGTERM or SIGINT stops it cleanly (exit 0).
    /// See the README of cantal-cli for the mapping of names to metric
    /// families and labels.
    ///
    /// Example: cantal export --listen 127.0.0.1:9779
    #[command(after_help = "Examples:\n  cantal export --listen 127.0.0.1:9779\n  \
        cantal export --listen localhost:9779 --web.config.file /etc/cantal/web.yml")]
    Export {
        /// Address to listen on: HOST:PORT, NAME:PORT (the first address it
        /// resolves to that binds), [IPV6]:PORT, or :PORT for every address.
        /// Port 0 picks a free port; the address is printed on the first
        /// line of stdout.
        #[arg(long, visible_alias = "web.listen-address", value_name = "ADDR")]
        listen: String,
        /// The path that serves the metrics.
        #[arg(long = "web.telemetry-path", value_name = "PATH", default_value = "/metrics",
              value_parser = parse_telemetry_path)]
        telemetry_path: String,
        /// The Prometheus exporter-toolkit web configuration (YAML):
        /// tls_server_config (cert_file, key_file, client_auth_type,
        /// client_ca_file, min_version, max_version) and basic_auth_users
        /// (bcrypt hashes). Read once at start; unknown keys are an error.
        #[arg(long = "web.config.file", value_name = "FILE")]
        web_config: Option<std::path::PathBuf>,
        /// Connections served at once; more are answered 503 and closed.
        #[arg(long = "web.max-connections", value_name = "N", default_value_t = 64,
              value_parser = clap::value_parser!(u32).range(1..=65_536))]
        max_connections: u32,
        /// The longest request line plus headers, in bytes (larger: 431).
        #[arg(long = "web.max-header-bytes", value_name = "BYTES", default_value_t = 16_384,
              value_parser = clap::value_parser!(u32).range(1_024..=1_048_576))]
        max_header_bytes: u32,
        /// Seconds to receive a request's line and headers, from its first
        /// byte (from the connection's opening, TLS handshake included, for
        /// the first request); a slower client is disconnected.
        #[arg(long = "web.header-timeout", value_name = "SECONDS", default_value_t = 10.0,
              value_parser = parse_interval)]
        header_timeout: f64,
        /// Seconds a keep-alive connection may wait for its next request
        /// before it is closed (not counted while a request is answered).
        #[arg(long = "web.idle-timeout", value_name = "SECONDS", default_value_t = 60.0,
              value_parser = parse_interval)]
        idle_timeout: f64,
        /// Seconds a response write may make no progress before the
        /// connection is closed.
        #[arg(long = "web.write-timeout", value_name = "SECONDS", default_value_t = 30.0,
              value_parser = parse_interval)]
        write_timeout: f64,
        /// Leave states out.
        #[arg(long)]
        no_states: bool,
        /// The longest state text put in a label, in characters.
        #[arg(long, value_name = "N", default_value_t = 64)]
        state_text_limit: usize,
        /// Put before every family name (empty for none; cantal_up keeps
        /// its name).
        #[arg(long, value_name = "PREFIX", default_value = "cantal_", value_parser = parse_prefix)]
        prefix: String,
        /// Family names starting with STEM get no prefix (repeatable), e.g.
        /// --unprefixed process_ for a library's standard process_* names.
        #[arg(long, value_name = "STEM")]
        unprefixed: Vec<String>,
        /// Give every series a pid label (it changes at each restart, so
        /// series then do not continue across restarts).
        #[arg(long)]
        label_pid: bool,
        /// Leave out the process_* families (CPU, memory, file descriptors
        /// and start time of every publisher's process, from /proc), for
        /// example when the publishers export their own.
        #[arg(long)]
        no_process_metrics: bool,
        #[command(flatten)]
        identity: cgroup::Asked,
        #[command(flatten)]
        remote_write: push::Flags,
        #[command(flatten)]
        discovery: scan::Discovery,
        #[command(flatten)]
        limits: scrape::Limits,
    },
}

/// A telemetry path: absolute, not `/` (the landing page), no query.
fn parse_telemetry_path(s: &str) -> Result<String, String> {
    if s.starts_with('/') && s.len() > 1 && !s.contains(['?', '#']) && s.is_ascii() {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?} is not a path like /metrics"))
    }
}

/// A positive, finite number of seconds.
fn parse_interval(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err(format!("{s:?} is not a number of seconds in (0, 86400]")),
    }
}

/// A metric name prefix: `[a-zA-Z_:][a-zA-Z0-9_:]*`, or empty.
fn parse_prefix(s: &str) -> Result<String, String> {
    let ok = s.chars().enumerate().all(|(i, c)| {
        c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
    });
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{s:?} is not a metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)"
        ))
    }
}

/// The `cantal` command: parses the process's arguments (exiting with
/// status 2 on a usage error), runs the command, and returns its status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Read { json, targets } => read::run(&targets, json),
        Command::Watch {
            interval,
            count,
            target,
        } => watch::run(&target, interval, count),
        Command::Scan { json, discovery } => scan::run(&discovery, json),
        Command::Export {
            listen,
            telemetry_path,
            web_config,
            max_connections,
            max_header_bytes,
            header_timeout,
            idle_timeout,
            write_timeout,
            no_states,
            state_text_limit,
            prefix,
            unprefixed,
            label_pid,
            no_process_metrics,
            identity,
            remote_write,
            discovery,
            limits,
        } => {
            // Leaked once: the options are copied into every scrape.
            let unprefixed: Vec<&'static str> =
                unprefixed.into_iter().map(|s| &*s.leak()).collect();
            export::run(
                http::Settings {
                    listen,
                    telemetry_path,
                    web_config,
                    max_connections: max_connections as usize,
                    max_header_bytes: max_header_bytes as usize,
                    header_timeout: Duration::from_secs_f64(header_timeout),
                    idle_timeout: Duration::from_secs_f64(idle_timeout),
                    write_timeout: Duration::from_secs_f64(write_timeout),
                },
                scrape::Config {
                    options: prom::Options {
                        states: !no_states,
                        state_text_limit,
                        prefix: prefix.leak(),
                        unprefixed: unprefixed.leak(),
                        label_pid,
                        process_metrics: !no_process_metrics,
                        identity,
                    },
                    discovery,
                    limits,
                },
                &remote_write,
            )
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cantal: {e}");
            ExitCode::FAILURE
        }
    }
}
