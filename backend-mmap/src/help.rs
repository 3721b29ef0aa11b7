//! Help texts and units of a publication's metrics: the optional side
//! file `P.help` next to `P.meta` and `P.values`.
//!
//! The Cantal protocol has no place for descriptions; this file adds one
//! without changing what existing readers see. The original agent and the
//! reference Python client open only `P.meta` and `P.values` and never
//! look at `P.help`. The format is in `PROTOCOL-help.md` at the root of the
//! repository:
//!
//! ```text
//! cantal-help 1 <dev> <ino>
//! <canonical JSON name> TAB <unit> TAB <help text>
//! ...
//! ```
//!
//! The first line names the values file the help belongs to (its device
//! and inode numbers): a help file left behind by a process that is gone
//! does not describe the next publication at that path, whose values file
//! is a new file ([`read_with`] answers `None` for it). Each line names one
//! metric as readers show it ([`Slot::name`](crate::read::Slot::name): for
//! a recorder histogram, the histogram's name without `_count`), its unit
//! (a `metrics` crate unit word such as `seconds`, `milliseconds`, `bytes`,
//! or empty) and its text, with `\` written `\\` and a newline `\n`.
//! Readers skip lines they cannot parse.
//!
//! The publication writes it: at publishing and at each extension, for
//! its [`Described`](cantal_core::Described) handles, and when the
//! `metrics` recorder gives its `describe_*!` texts
//! ([`Extender::set_help`](crate::Extender::set_help)). [`write()`] replaces the file
//! atomically: a new file made exclusively beside it, then `rename(2)`.
//! The publication code does not delete `P.help` when it removes its
//! files; the inode check above makes a leftover harmless, and [`remove`]
//! is there for the publication code to call.

use crate::error::Error;
use crate::os::{self, MetadataExt};
use crate::path::with_suffix;
use crate::read::{self, Options};
use cantal_core::Metric;
use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// The largest help file read: 4 MiB.
pub const HELP_LIMIT: u64 = 4 << 20;

/// The most lines kept from one help file.
pub const MAX_LINES: usize = 65_536;

/// The longest help text kept, in bytes (longer ones are cut at a
/// character boundary).
pub const MAX_TEXT: usize = 1024;

/// The first word of a help file.
const MAGIC: &str = "cantal-help 1";

/// One metric's description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    /// The unit word (`seconds`, `milliseconds`, `bytes`...), if any.
    pub unit: Option<String>,
    /// The help text (may be empty).
    pub text: String,
}

/// The descriptions of a publication, by canonical JSON name.
pub type Help = HashMap<String, Description>;

/// Reads `base.help`, when it exists and belongs to the publication whose
/// values file is `base.values` now; `Ok(None)` when there is no help file
/// or it is another publication's.
///
/// The file is opened as [`read::read_with`] opens the others: without
/// following symlinks, without blocking on a FIFO, checked with `fstat`
/// (a regular file, owned by [`Options::owner`] when set, at most
/// [`HELP_LIMIT`] bytes). At most [`MAX_LINES`] lines are kept.
///
/// # Errors
///
/// Those of opening and reading the file, but not `NotFound`.
pub fn read_with(base: impl AsRef<Path>, options: &Options) -> Result<Option<Help>, Error> {
    let base = base.as_ref();
    let path = with_suffix(base, ".help");
    os::supported(&path, "read")?;
    let root = options.root.as_deref();
    let (file, _) = match read::open_in(root, &path, options.owner, HELP_LIMIT) {
        Ok(opened) => opened,
        Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let bytes = read::read_file(&file, &path, HELP_LIMIT, None)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut lines = text.lines();
    let Some((dev, ino)) = lines.next().and_then(header) else {
        return Ok(None);
    };
    let values_path = with_suffix(base, ".values");
    let values = match read::open_in(root, &values_path, options.owner, u64::MAX) {
        Ok((file, _)) => file.metadata().map_err(|e| Error::io(&values_path, e))?,
        Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    if (values.dev(), values.ino()) != (dev, ino) {
        return Ok(None);
    }
    Ok(Some(lines.take(MAX_LINES).filter_map(parse_line).collect()))
}

/// [`read_with`] with the default options.
///
/// # Errors
///
/// Those of [`read_with`].
pub fn read(base: impl AsRef<Path>) -> Result<Option<Help>, Error> {
    read_with(base, &Options::default())
}

/// `cantal-help 1 <dev> <ino>`.
fn header(line: &str) -> Option<(u64, u64)> {
    let rest = line.strip_prefix(MAGIC)?.strip_prefix(' ')?;
    let (dev, ino) = rest.split_once(' ')?;
    Some((dev.parse().ok()?, ino.parse().ok()?))
}

/// `name TAB unit TAB text`.
fn parse_line(line: &str) -> Option<(String, Description)> {
    let mut fields = line.splitn(3, '\t');
    let (name, unit, text) = (fields.next()?, fields.next()?, fields.next()?);
    if !name.starts_with('{') || !unit.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return None;
    }
    let mut text = unescape(text);
    if text.len() > MAX_TEXT {
        let mut end = MAX_TEXT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    let unit = (!unit.is_empty()).then(|| unit.to_string());
    Some((name.to_string(), Description { unit, text }))
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            (c, false) => out.push(c),
        }
    }
    out
}

fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
}

/// The text of a help file for the values file `(dev, ino)` and `lines`
/// (canonical name, unit word, help text). Names or units with a tab or a
/// newline are left out.
pub fn render(dev: u64, ino: u64, lines: &[HelpLine]) -> String {
    let mut out = format!("{MAGIC} {dev} {ino}\n");
    for (name, unit, text) in lines {
        let unit = unit.as_deref().unwrap_or("");
        let bad = |s: &str| s.contains(['\t', '\n', '\r']);
        if bad(name) || bad(unit) {
            continue;
        }
        out.push_str(name);
        out.push('\t');
        out.push_str(unit);
        out.push('\t');
        escape(text, &mut out);
        out.push('\n');
    }
    out
}

/// The pair of a core histogram's count slot, as its canonical name has it.
const COUNT_PAIR: &str = "\"cantal_histogram\": \"count\"";

/// One line of a help file: canonical name, unit word, help text.
pub type HelpLine = (String, Option<String>, String);

/// The help of a live publication: what its handles declare
/// ([`Described`](cantal_core::Described)) and what was given through
/// [`Extender::set_help`](crate::Extender::set_help) (the `metrics`
/// recorder's `describe_*!`). The publication writes the file.
#[derive(Debug, Default)]
pub(crate) struct PublishedHelp {
    described: Vec<HelpLine>,
    given: Vec<HelpLine>,
}

impl PublishedHelp {
    /// Keeps the descriptions of those of `metrics` that have one; whether
    /// there was any (then the file is behind).
    pub(crate) fn add_described<'a>(
        &mut self,
        metrics: impl IntoIterator<Item = &'a dyn Metric>,
    ) -> bool {
        let before = self.described.len();
        for m in metrics {
            if m.help().is_none() && m.unit().is_none() {
                continue;
            }
            let mut name = m.name().to_string();
            // A core histogram's unit rides on its count slot; readers show
            // the histogram under its own name.
            if m.help().is_none() && name.contains(COUNT_PAIR) {
                name = crate::histogram::exclusive_histogram_name(&name);
            }
            let text = m.help().unwrap_or_default().to_string();
            self.described
                .push((name, m.unit().map(String::from), text));
        }
        self.described.len() > before
    }

    /// Replaces the lines given from outside the handles.
    pub(crate) fn set_given(&mut self, lines: Vec<HelpLine>) {
        self.given = lines;
    }

    /// Replaces `base.help` with every line kept (a handle's own
    /// description after, so above, a given line of the same name).
    pub(crate) fn write(&self, base: &Path) -> Result<(), Error> {
        let all: Vec<HelpLine> = self.given.iter().chain(&self.described).cloned().collect();
        write(base, &all)
    }
}

/// Replaces `base.help` with the descriptions `lines` (canonical name,
/// unit word, help text) of the publication at `base`, whose values file
/// must exist. The file gets the values file's permission bits (at most
/// `0o644`).
///
/// # Errors
///
/// The values file cannot be examined, or the help file cannot be made
/// (named in the error).
pub fn write(base: impl AsRef<Path>, lines: &[HelpLine]) -> Result<(), Error> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let base = base.as_ref();
    os::supported(&with_suffix(base, ".help"), "write")?;
    let values_path = with_suffix(base, ".values");
    let values = fs::symlink_metadata(&values_path).map_err(|e| Error::io(&values_path, e))?;
    let text = render(values.dev(), values.ino(), lines);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let tmp = with_suffix(base, &format!(".help.{}.{n}.tmp", std::process::id()));
    let result = (|| {
        let mut file = os::create_new(&tmp, values.mode() & 0o644)?;
        file.write_all(text.as_bytes())?;
        fs::rename(&tmp, with_suffix(base, ".help"))
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(&tmp, e)
    })
}

/// Deletes `base.help` if it exists (for the publication code, when it
/// removes its files).
///
/// # Errors
///
/// Any error but `NotFound`.
pub fn remove(base: impl AsRef<Path>) -> Result<(), Error> {
    let path = with_suffix(base.as_ref(), ".help");
    os::supported(&path, "remove")?;
    match fs::remove_file(&path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(Error::io(&path, e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("cantal-help-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir(&dir).unwrap();
        dir
    }

    #[test]
    fn written_help_reads_back_for_its_values_file_only() {
        let dir = dir("roundtrip");
        let base = dir.join("app");
        fs::write(with_suffix(&base, ".values"), [0u8; 8]).unwrap();
        fs::set_permissions(
            with_suffix(&base, ".values"),
            fs::Permissions::from_mode(0o640),
        )
        .unwrap();
        assert_eq!(read(&base).unwrap(), None);
        let lines = [
            (
                r#"{"metric": "latency"}"#.to_string(),
                Some("milliseconds".to_string()),
                "How long a\nrequest \\ took\tin all".to_string(),
            ),
            ("{\"bad\tname\"}".to_string(), None, "x".to_string()),
            (r#"{"metric": "jobs"}"#.to_string(), None, String::new()),
        ];
        write(&base, &lines).unwrap();
        let mode = fs::metadata(with_suffix(&base, ".help")).unwrap().mode();
        assert_eq!(mode & 0o777, 0o640);
        let help = read(&base).unwrap().unwrap();
        assert_eq!(help.len(), 2);
        assert_eq!(
            help[r#"{"metric": "latency"}"#],
            Description {
                unit: Some("milliseconds".into()),
                text: "How long a\nrequest \\ took\tin all".into()
            }
        );
        assert_eq!(help[r#"{"metric": "jobs"}"#].unit, None);
        // A new values file (another publication at this path): the old
        // help is not its help. (Made while the old one exists, so that
        // its inode number is another.)
        fs::write(dir.join("other"), [0u8; 8]).unwrap();
        fs::rename(dir.join("other"), with_suffix(&base, ".values")).unwrap();
        assert_eq!(read(&base).unwrap(), None);
        remove(&base).unwrap();
        remove(&base).unwrap();
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn hostile_help_files_are_refused_or_bounded() {
        let dir = dir("hostile");
        let base = dir.join("app");
        fs::write(with_suffix(&base, ".values"), [0u8; 8]).unwrap();
        // A symlink is not followed.
        std::os::unix::fs::symlink(with_suffix(&base, ".values"), with_suffix(&base, ".help"))
            .unwrap();
        assert!(matches!(read(&base), Err(Error::NotRegularFile { .. })));
        fs::remove_file(with_suffix(&base, ".help")).unwrap();
        // A FIFO does not block the reader.
        let made = std::process::Command::new("mkfifo")
            .arg(with_suffix(&base, ".help"))
            .status()
            .unwrap();
        assert!(made.success());
        assert!(matches!(read(&base), Err(Error::NotRegularFile { .. })));
        fs::remove_file(with_suffix(&base, ".help")).unwrap();
        // Too large.
        fs::write(
            with_suffix(&base, ".help"),
            vec![b'x'; HELP_LIMIT as usize + 1],
        )
        .unwrap();
        assert!(matches!(read(&base), Err(Error::TooLarge { .. })));
        // Another owner, when the reader asks for one.
        let values = fs::metadata(with_suffix(&base, ".values")).unwrap();
        fs::write(
            with_suffix(&base, ".help"),
            format!("{MAGIC} {} {}\n", values.dev(), values.ino()),
        )
        .unwrap();
        let me = fs::metadata(with_suffix(&base, ".help")).unwrap().uid();
        let options = Options::new().owner(Some(me.wrapping_add(1)));
        assert!(matches!(
            read_with(&base, &options),
            Err(Error::ForeignOwner { .. })
        ));
        // Garbage lines are skipped; a long text is cut.
        let long = "é".repeat(MAX_TEXT);
        fs::write(
            with_suffix(&base, ".help"),
            format!(
                "{MAGIC} {} {}\nno tabs\n{{\"a\": \"1\"}}\tBAD\tx\n{{\"b\": \"1\"}}\t\t{long}\n",
                values.dev(),
                values.ino()
            ),
        )
        .unwrap();
        let help = read(&base).unwrap().unwrap();
        assert_eq!(help.len(), 1);
        assert_eq!(help[r#"{"b": "1"}"#].text.len(), MAX_TEXT);
        let _ = fs::remove_dir_all(&dir);
    }
}
