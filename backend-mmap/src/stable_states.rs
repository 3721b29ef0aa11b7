//! Re-reading the `state` slots of a bulk copy until each is whole: the
//! reader's side of the seqlock a publisher writes a state with (see
//! [`read`](crate::read::read), "State slots are never torn").
//!
//! [`meta_states`] finds where the states of a meta text are;
//! [`stabilise_states`] re-reads each of them with `pread(2)` (timestamp,
//! text, timestamp) and patches the whole value into the copy.

use crate::os::FileExt;
use cantal_core::decode::{self, SlotKind};
use std::fs::File;
use std::io;
use std::sync::atomic::{Ordering, fence};

/// How many times one `state` slot is re-read when its writer keeps
/// changing it while it is read; after that it reads as "no state".
pub const STATE_ATTEMPTS: usize = 16;

/// Re-reads every `state` slot at `states` (offset, length) that `values` holds,
/// from `file` with `pread(2)`, until its timestamp is the same before and
/// after its text, and patches the whole value into `values`. A slot with
/// no state (timestamp 0), or one that never settles, gets timestamp 0
/// and zeroed text. Slots past the end of `values` are left alone (the
/// decoder reports them as short).
///
/// `counter` and `level` slots are left as the bulk `read(2)` copied them.
/// Each is one 8-byte word that the publisher updates with one atomic
/// instruction; our layout and the reference client's put every such word
/// at a multiple of 8, so it lies within one cache line. The kernel's copy
/// (`copy_to_user`: `rep movsb` or unrolled 8-byte moves on x86-64, 8- and
/// 16-byte `ldp` loads on arm64) reads a cache line's bytes with loads at
/// least 8 bytes wide and aligned with the source when the source is; no
/// Linux copy routine we know of splits an aligned word. Architecture
/// manuals do not promise that for string copies, so this is a property of
/// the implementations, checked by `tests/stress_process.rs` (counters
/// never go backwards). A misaligned word (a hand-written meta file) may
/// tear.
pub(crate) fn stabilise_states(
    file: &File,
    states: &[(u64, usize)],
    values: &mut [u8],
) -> io::Result<()> {
    for &(offset, len) in states {
        let Some(slot) = usize::try_from(offset)
            .ok()
            .and_then(|start| values.get_mut(start..start.checked_add(len)?))
        else {
            continue;
        };
        if slot.len() >= 8 {
            stabilise_state(file, offset, slot)?;
        }
    }
    Ok(())
}

/// Where the `state` slots of the meta text `meta` are (offset, length),
/// read as leniently as [`ParsedMeta::parse`](crate::read::ParsedMeta::parse) reads it: up to the first line
/// that does not parse (the decoder reports it), without the slots it
/// skips.
pub(crate) fn meta_states(meta: &[u8]) -> Vec<(u64, usize)> {
    // A state's line starts with `state` after blanks: a file without
    // one (most) is not parsed twice.
    let state_line = |line: &[u8]| {
        let blanks = line
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        line.get(blanks..).is_some_and(|l| l.starts_with(b"state"))
    };
    if !meta.split(|&b| b == b'\n').any(state_line) {
        return Vec::new();
    }
    decode::parse_meta_lenient(meta)
        .map_while(Result::ok)
        .filter(|entry| entry.kind() == SlotKind::State && entry.skipped().is_none())
        .filter_map(|entry| {
            Some((
                entry.offset(),
                usize::try_from(entry.end() - entry.offset()).ok()?,
            ))
        })
        .collect()
}

/// How many times a state's timestamp is read as 0 before the state counts
/// as "no state".
const ZERO_READS: usize = 3;

/// Re-reads the state slot at `offset` of `file` into `slot` (its bytes in
/// the snapshot, at least 8 bytes long: `state 8` has no text) until it
/// is whole.
fn stabilise_state(file: &File, offset: u64, slot: &mut [u8]) -> io::Result<()> {
    let (stamp, text) = slot.split_at_mut(8);
    let mut t1 = [0u8; 8];
    let mut t2 = [0u8; 8];
    let mut zeros = 0;
    for attempt in 0..STATE_ATTEMPTS {
        if attempt > 2 {
            std::thread::yield_now();
        }
        // Three separate copies, in this order, each ordered after the
        // previous by a full fence. The fences order the CPU's own loads,
        // including those the kernel makes for us in this thread; this
        // pairs with the publisher's release stores (text before the new
        // timestamp, timestamp 0 before the text). On x86-64 loads are
        // never reordered with loads anyway.
        file.read_exact_at(&mut t1, offset)?;
        if t1 == [0; 8] {
            // No state, or a writer between its two timestamps: look again
            // a couple of times before taking "no state".
            zeros += 1;
            if zeros == ZERO_READS {
                break;
            }
            continue;
        }
        fence(Ordering::SeqCst);
        file.read_exact_at(text, offset + 8)?;
        fence(Ordering::SeqCst);
        file.read_exact_at(&mut t2, offset)?;
        if t1 == t2 {
            stamp.copy_from_slice(&t1);
            return Ok(());
        }
    }
    // No state, or a writer that never let us see a whole value.
    stamp.fill(0);
    text.fill(0);
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::fs;
    use std::path::PathBuf;

    /// A file holding `values`, in a fresh private directory.
    pub(crate) fn file_with(name: &str, values: &[u8]) -> (File, PathBuf) {
        let dir = std::env::temp_dir().join(format!("cantal-read-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("f"), values).unwrap();
        (File::open(dir.join("f")).unwrap(), dir)
    }

    /// A 24-byte `state` slot: timestamp `ts`, then `text`.
    pub(crate) fn state_slot(ts: u64, text: &[u8]) -> Vec<u8> {
        let mut slot = vec![0u8; 24];
        slot[..8].copy_from_slice(&ts.to_ne_bytes());
        slot[8..8 + text.len()].copy_from_slice(text);
        slot
    }

    pub(crate) const META: &[u8] =
        b"counter 8: {\"c\": \"1\"}\nstate 24: {\"s\": \"1\"}\nstate 24: {\"s\": \"2\"}";

    #[test]
    fn stable_states_are_copied_from_the_file_and_no_state_has_no_text() {
        let mut file_bytes = 9u64.to_ne_bytes().to_vec();
        file_bytes.extend(state_slot(77, b"serving\0"));
        file_bytes.extend(state_slot(0, b"left over"));
        let (file, dir) = file_with("stable", &file_bytes);
        // A stale bulk copy: the re-read takes the file's bytes.
        let mut values = 9u64.to_ne_bytes().to_vec();
        values.extend(state_slot(76, b"half-wri"));
        values.extend(state_slot(0, b"left over"));
        stabilise_states(&file, &meta_states(META), &mut values).unwrap();
        let mut expected = 9u64.to_ne_bytes().to_vec();
        expected.extend(state_slot(77, b"serving\0"));
        expected.extend(state_slot(0, b""));
        assert_eq!(values, expected);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn short_values_and_bad_meta_are_left_to_the_decoder() {
        let mut file_bytes = 9u64.to_ne_bytes().to_vec();
        file_bytes.extend(state_slot(77, b"serving\0"));
        let (file, dir) = file_with("short", &file_bytes);
        // The second state is past the end of the values: not touched.
        let mut values = file_bytes.clone();
        stabilise_states(&file, &meta_states(META), &mut values).unwrap();
        assert_eq!(values, file_bytes);
        // Unparsable meta: nothing touched.
        let mut values = vec![1u8; 56];
        stabilise_states(&file, &meta_states(b"state x: {}"), &mut values).unwrap();
        assert_eq!(values, vec![1u8; 56]);
        // A file shorter than the bulk copy (truncated meanwhile): an error.
        let mut values = vec![1u8; 56];
        let err = stabilise_states(&file, &meta_states(META), &mut values).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        fs::remove_dir_all(dir).unwrap();
    }
}
