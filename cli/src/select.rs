//! `--include` and `--exclude`: which publishers `scan` and `export` keep,
//! by appname, user or path.
//!
//! A rule is `KEY=PATTERN`, KEY one of `appname`, `user`, `path`. The
//! pattern is a glob over the whole value: `*` matches any run of
//! characters (`/` included), `?` any one character, every other character
//! itself. `appname` is the process's `CANTAL_APPNAME` (empty when it has
//! none); `user` is the user name or the decimal uid of the publisher (the
//! real uid of its process when it runs, else the owner of its meta file);
//! `path` is the base path `P`. A publisher is kept when it matches at
//! least one `--include` (or there is none) and no `--exclude`.

use crate::procfs;
use crate::target::Source;
use cantal_mmap::with_suffix;
use std::os::unix::fs::MetadataExt;

/// What a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    /// `CANTAL_APPNAME`.
    Appname,
    /// The publisher's user, by name or uid.
    User,
    /// The base path.
    Path,
}

/// One `--include` or `--exclude`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    key: Key,
    pattern: Vec<char>,
}

/// Parses `KEY=PATTERN` (clap's value parser).
pub(crate) fn parse_rule(s: &str) -> Result<Rule, String> {
    let (key, pattern) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not KEY=PATTERN (appname=, user=, path=)"))?;
    let key = match key {
        "appname" => Key::Appname,
        "user" => Key::User,
        "path" => Key::Path,
        _ => return Err(format!("{key:?} is not appname, user or path")),
    };
    Ok(Rule {
        key,
        pattern: pattern.chars().collect(),
    })
}

/// Whether `source` is kept by `include` and `exclude`.
pub(crate) fn keeps(source: &Source, include: &[Rule], exclude: &[Rule]) -> bool {
    if include.is_empty() && exclude.is_empty() {
        return true;
    }
    let mut user = None;
    let mut matches = |rule: &Rule| match rule.key {
        Key::Appname => glob(&rule.pattern, source.appname.as_deref().unwrap_or("")),
        Key::Path => glob(&rule.pattern, &source.base.to_string_lossy()),
        Key::User => {
            let (uid, name) = user.get_or_insert_with(|| {
                let uid = user_of(source);
                (uid.map(|u| u.to_string()), uid.and_then(user_name))
            });
            [uid.as_deref(), name.as_deref()]
                .into_iter()
                .flatten()
                .any(|v| glob(&rule.pattern, v))
        }
    };
    (include.is_empty() || include.iter().any(&mut matches)) && !exclude.iter().any(matches)
}

/// The publisher's uid: its process's real uid, else its meta file's owner.
fn user_of(source: &Source) -> Option<u32> {
    source
        .pid
        .and_then(|pid| cantal_mmap::read::owner_of_pid(pid).ok())
        .or_else(|| {
            std::fs::symlink_metadata(with_suffix(&source.base, ".meta"))
                .ok()
                .map(|m| m.uid())
        })
}

/// The name of user `uid`, from `/etc/passwd`.
fn user_name(uid: u32) -> Option<String> {
    procfs::passwd_name(&std::fs::read_to_string("/etc/passwd").ok()?, uid)
}

/// Whether the glob `pattern` matches all of `text`: `*` any run, `?` one
/// character. Backtracks to the last `*` only, so it takes at most
/// `pattern.len() * text.len()` steps.
fn glob(pattern: &[char], text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn g(p: &str, t: &str) -> bool {
        glob(&p.chars().collect::<Vec<_>>(), t)
    }

    #[test]
    fn globs() {
        assert!(g("*", ""));
        assert!(g("web-*", "web-1"));
        assert!(!g("web-*", "api-1"));
        assert!(g("/run/*/x", "/run/a/b/x"));
        assert!(g("a?c", "abc"));
        assert!(!g("a?c", "ac"));
        assert!(g("*b*b*", "abxbz"));
        assert!(!g("abc", "abcd"));
        assert!(g("é*", "été"));
    }

    #[test]
    fn rules() {
        assert!(parse_rule("host=x").is_err());
        assert!(parse_rule("appname").is_err());
        let source = Source {
            base: PathBuf::from("/run/app/web"),
            pid: None,
            appname: Some("web".into()),
            inner: None,
        };
        let r = |s: &str| vec![parse_rule(s).unwrap()];
        assert!(keeps(&source, &[], &[]));
        assert!(keeps(&source, &r("appname=w*"), &[]));
        assert!(!keeps(&source, &r("appname=api"), &[]));
        assert!(!keeps(&source, &[], &r("path=/run/*")));
        assert!(keeps(&source, &r("path=/run/app/*"), &r("appname=api")));
        // No meta file, no process: no user to match.
        assert!(!keeps(&source, &r("user=*"), &[]));
    }
}
