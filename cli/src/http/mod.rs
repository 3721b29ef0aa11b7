//! `cantal export`'s HTTP front: a bounded HTTP/1.1 server (hyper on a
//! current-thread tokio runtime) in front of the scrape.
//!
//! - [`Settings`]: the listen address, telemetry path, web configuration
//!   file and the limits (connections, header bytes, timeouts).
//! - [`serve`]: binds, prints `cantal export: listening on
//!   http://ADDR/PATH` on stdout, and answers until SIGTERM or SIGINT.
//!
//! The scrape itself is a function handed to [`serve`]; it runs on a
//! thread of its own, one scrape at a time, so a slow scrape never stalls
//! the connections' timeouts.

mod auth;
mod io;
mod negotiate;
mod respond;
mod server;
mod settings;
mod webconfig;
mod worker;

pub(crate) use server::serve;
pub(crate) use settings::Settings;
