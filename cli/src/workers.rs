//! [`map`]: independent jobs run on a few threads, results in job order.
//!
//! The exporter's first scrape parses every publisher's meta file; those
//! parses share nothing, so they run on up to `--max-parse-threads`
//! threads. A thread that cannot be started (a process at its thread
//! limit) is not an error: the caller's thread does the jobs left.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `work` on every job, on the calling thread and at most
/// `threads - 1` others, and returns the results in the order of `jobs`.
///
/// A panic in `work` is resumed on the calling thread, as if it had run
/// there.
pub(crate) fn map<J, R, F>(jobs: Vec<J>, threads: usize, work: F) -> Vec<R>
where
    J: Send,
    R: Send,
    F: Fn(J) -> R + Sync,
{
    let extra = threads.saturating_sub(1).min(jobs.len().saturating_sub(1));
    if extra == 0 {
        return jobs.into_iter().map(work).collect();
    }
    let count = jobs.len();
    // Each job is taken once: by the index the counter hands out.
    let jobs: Vec<Mutex<Option<J>>> = jobs.into_iter().map(|j| Mutex::new(Some(j))).collect();
    let next = AtomicUsize::new(0);
    let run = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(slot) = jobs.get(i) else { break };
            let job = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(job) = job {
                done.push((i, work(job)));
            }
        }
        done
    };
    let mut results: Vec<Option<R>> = (0..count).map(|_| None).collect();
    std::thread::scope(|scope| {
        let started: Vec<_> = (0..extra)
            .filter_map(|_| {
                std::thread::Builder::new()
                    .name("cantal-parse".into())
                    .spawn_scoped(scope, run)
                    .ok()
            })
            .collect();
        let mut all = run();
        for handle in started {
            match handle.join() {
                Ok(done) => all.extend(done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        for (i, result) in all {
            if let Some(slot) = results.get_mut(i) {
                *slot = Some(result);
            }
        }
    });
    // Every index below `count` was handed out once and its job run.
    results.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn results_come_in_job_order_whatever_thread_ran_them() {
        for threads in [0, 1, 2, 3, 8] {
            let jobs: Vec<u64> = (0..100).collect();
            let names = Mutex::new(HashSet::new());
            let squares = map(jobs, threads, |j| {
                let name = std::thread::current().name().map(str::to_string);
                names.lock().unwrap().insert(name);
                j * j
            });
            assert_eq!(squares, (0..100).map(|j| j * j).collect::<Vec<_>>());
            let names = names.into_inner().unwrap();
            assert!(names.len() <= threads.max(1), "{threads}: {names:?}");
        }
        assert_eq!(map(Vec::<u8>::new(), 4, |j| j), Vec::<u8>::new());
    }

    #[test]
    fn a_panic_in_a_job_reaches_the_caller() {
        let caught = std::panic::catch_unwind(|| {
            map((0..10).collect::<Vec<u32>>(), 2, |j| {
                assert_ne!(j, 7, "job seven");
                j
            })
        });
        assert!(caught.is_err());
    }
}
