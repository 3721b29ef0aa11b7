//! The examples' one option, `--for SECONDS`: how long to run.

use std::time::Duration;

/// `--for SECONDS` from the command line, else 3 seconds; the error is a
/// usage line naming `example`.
pub(crate) fn duration(example: &str) -> Result<Duration, String> {
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next()) {
        (None, _) => Ok(Duration::from_secs(3)),
        (Some("--for"), Some(seconds)) => seconds
            .parse::<f64>()
            .ok()
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .ok_or_else(|| format!("--for: not a number of seconds: {seconds}")),
        _ => Err(format!("usage: {example} [--for SECONDS]")),
    }
}
