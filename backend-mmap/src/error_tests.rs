use super::*;
use cantal_core::decode;

/// Every variant, with the message it must show: a change of wording is
/// a visible change (logs, the CLI, tests of other crates match on them).
fn every_variant() -> Vec<(Error, &'static str)> {
    let p = || PathBuf::from("/x/y");
    let os_error = || io::Error::other("os said no");
    let meta_error = decode::parse_meta(b"bogus line")
        .find_map(Result::err)
        .expect("a malformed line");
    let mut twice: Vec<_> =
        decode::parse_meta(b"counter 8: {\"a\": \"1\"}\ncounter 8: {\"a\": \"1\"}")
            .map(|e| e.expect("a well-formed line"))
            .collect();
    let duplicate = decode::find_duplicate(&mut twice).expect_err("a name twice");
    let short = ValuesError::new(2, 16, 8);
    let (meta_msg, dup_msg, short_msg) = (
        meta_error.to_string(),
        duplicate.to_string(),
        short.to_string(),
    );
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    vec![
        (
            Error::Directory {
                path: p(),
                source: os_error(),
            },
            "cannot create Cantal files in directory /x/y: os said no",
        ),
        (
            Error::NoSpace {
                path: p(),
                source: os_error(),
            },
            "no space left for Cantal file /x/y: os said no",
        ),
        (
            Error::PathTooLong { path: p() },
            "Cantal base path /x/y is too long for a file name",
        ),
        (
            Error::BadBasePath {
                path: p(),
                reason: "is empty",
            },
            "Cantal base path (CANTAL_PATH) /x/y is empty; it must be a file name prefix such \
             as /run/user/1000/myapp",
        ),
        (
            Error::UnsafeDirectory {
                path: p(),
                mode: 0o777,
            },
            "refusing to publish in /x/y (mode 777): other users can write to it and it has no \
             sticky bit",
        ),
        (
            Error::ForeignDirectory {
                path: p(),
                owner: 7,
                expected: 9,
            },
            "refusing to publish under /x/y: it belongs to uid 7, neither root nor the \
             publisher's uid 9, so that user could replace the files",
        ),
        (
            Error::FileSizeLimit {
                path: p(),
                size: 10,
                limit: 5,
            },
            "Cantal file /x/y needs 10 bytes, more than the file size limit (RLIMIT_FSIZE, \
             ulimit -f) of 5 bytes",
        ),
        (
            Error::Locked {
                path: p(),
                pid: Some(42),
            },
            "Cantal file /x/y is in use by another process (pid 42)",
        ),
        (
            Error::Locked {
                path: p(),
                pid: None,
            },
            "Cantal file /x/y is in use by another process",
        ),
        (
            Error::AlreadyStarted { path: p() },
            "cannot publish to /x/y: cantal::start() was already called in this process",
        ),
        (
            Error::Map {
                path: p(),
                source: os_error(),
            },
            "cannot map Cantal file /x/y: os said no",
        ),
        (
            Error::Start {
                path: p(),
                source: StartError::TooLarge,
            },
            leak(format!("cannot publish to /x/y: {}", StartError::TooLarge)),
        ),
        (
            Error::NotRegularFile { path: p() },
            "/x/y is not a regular file",
        ),
        (
            Error::ForeignOwner {
                path: p(),
                owner: 7,
                expected: 9,
            },
            "/x/y belongs to uid 7, not to the publisher's uid 9",
        ),
        (
            Error::TooLarge {
                path: p(),
                size: 10,
                limit: 5,
            },
            "/x/y has 10 bytes, more than the limit of 5",
        ),
        (
            Error::Closed { path: p() },
            "/x/y: the publication was dropped, its files are gone",
        ),
        (
            Error::Unstable {
                path: p(),
                attempts: 5,
            },
            "/x/y changed during each of 5 attempts to read it",
        ),
        (
            Error::Decode {
                path: p(),
                source: DecodeError::from(meta_error),
            },
            leak(format!("/x/y: {meta_msg}")),
        ),
        (
            Error::ValuesTooShort {
                path: p(),
                source: short,
            },
            leak(format!(
                "/x/y: {short_msg} (half-written or replaced publication?)"
            )),
        ),
        (
            Error::Duplicate {
                path: p(),
                source: duplicate,
            },
            leak(format!("/x/y: {dup_msg}")),
        ),
        (
            Error::HalfPresent {
                path: p(),
                present: PathBuf::from("/x/y.meta"),
            },
            "/x/y: no such file, but /x/y.meta exists: a publication half created or half \
             removed (its publisher starting or exiting), or a file removed by hand",
        ),
        (
            Error::Unsupported {
                path: p(),
                action: "publish",
            },
            leak(format!(
                "cannot publish /x/y: Cantal files need Linux (this build is for {})",
                std::env::consts::OS
            )),
        ),
        (
            Error::Io {
                path: p(),
                source: os_error(),
            },
            "/x/y: os said no",
        ),
    ]
}

/// The variant's place in the declaration: an exhaustive match, so that a
/// new variant fails to compile here until [`every_variant`] has it.
fn index(error: &Error) -> usize {
    match error {
        Error::Directory { .. } => 0,
        Error::NoSpace { .. } => 1,
        Error::PathTooLong { .. } => 2,
        Error::BadBasePath { .. } => 3,
        Error::UnsafeDirectory { .. } => 4,
        Error::ForeignDirectory { .. } => 5,
        Error::FileSizeLimit { .. } => 6,
        Error::Locked { .. } => 7,
        Error::AlreadyStarted { .. } => 8,
        Error::Map { .. } => 9,
        Error::Start { .. } => 10,
        Error::NotRegularFile { .. } => 11,
        Error::ForeignOwner { .. } => 12,
        Error::TooLarge { .. } => 13,
        Error::Closed { .. } => 14,
        Error::Unstable { .. } => 15,
        Error::Decode { .. } => 16,
        Error::ValuesTooShort { .. } => 17,
        Error::Duplicate { .. } => 18,
        Error::HalfPresent { .. } => 19,
        Error::Unsupported { .. } => 20,
        Error::Io { .. } => 21,
    }
}

#[test]
fn every_variant_says_what_and_where() {
    let mut seen: Vec<usize> = every_variant().iter().map(|(e, _)| index(e)).collect();
    seen.dedup();
    assert_eq!(
        seen,
        (0..=21).collect::<Vec<_>>(),
        "every variant, in order"
    );
    for (error, message) in every_variant() {
        assert_eq!(error.to_string(), message);
        // `Debug` is the same sentence (what `main` prints for an `Err`).
        assert_eq!(format!("{error:?}"), message);
        assert_eq!(error.path(), Path::new("/x/y"), "{error}");
    }
}

#[test]
fn sources_are_kept() {
    use std::error::Error as _;
    for (error, _) in every_variant() {
        let has_source = matches!(
            error,
            Error::Directory { .. }
                | Error::NoSpace { .. }
                | Error::Map { .. }
                | Error::Io { .. }
                | Error::Start { .. }
                | Error::Decode { .. }
                | Error::Duplicate { .. }
                | Error::ValuesTooShort { .. }
        );
        assert_eq!(error.source().is_some(), has_source, "{error}");
    }
}
