//! The bounded queue of requests waiting to be sent: by age and by bytes.

use bytes::Bytes;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How much the queue keeps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The oldest request kept.
    pub(crate) max_age: Duration,
    /// The most bytes of requests kept.
    pub(crate) max_bytes: u64,
}

/// One queued request.
struct Entry {
    made: Instant,
    body: Bytes,
    samples: u64,
}

/// Requests in the order they were made.
pub(crate) struct Queue {
    limits: Limits,
    entries: VecDeque<Entry>,
    bytes: u64,
}

impl Queue {
    pub(crate) fn new(limits: Limits) -> Queue {
        Queue {
            limits,
            entries: VecDeque::new(),
            bytes: 0,
        }
    }

    /// Queues a request of `samples` samples, made now.
    pub(crate) fn push(&mut self, body: Bytes, samples: u64) {
        self.push_at(Instant::now(), body, samples);
    }

    fn push_at(&mut self, made: Instant, body: Bytes, samples: u64) {
        self.bytes += body.len() as u64;
        self.entries.push_back(Entry {
            made,
            body,
            samples,
        });
    }

    /// Drops the requests older than the age limit at `now`, then the
    /// oldest while over the byte limit; the samples dropped.
    pub(crate) fn expire(&mut self, now: Instant) -> u64 {
        let mut dropped = 0;
        while let Some(e) = self.entries.front() {
            let too_old = now.saturating_duration_since(e.made) > self.limits.max_age;
            if !too_old && self.bytes <= self.limits.max_bytes {
                break;
            }
            dropped += e.samples;
            self.pop();
        }
        dropped
    }

    /// The oldest request: its body (shared, not copied) and samples.
    pub(crate) fn front(&self) -> Option<(Bytes, u64)> {
        self.entries.front().map(|e| (e.body.clone(), e.samples))
    }

    /// Removes the oldest request.
    pub(crate) fn pop(&mut self) {
        if let Some(e) = self.entries.pop_front() {
            self.bytes -= e.body.len() as u64;
        }
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_by_age_then_by_bytes() {
        let start = Instant::now();
        let limits = Limits {
            max_age: Duration::from_secs(10),
            max_bytes: 25,
        };
        let mut q = Queue::new(limits);
        q.push_at(start, Bytes::from(vec![0; 10]), 1);
        q.push_at(start + Duration::from_secs(5), Bytes::from(vec![0; 10]), 2);
        q.push_at(start + Duration::from_secs(9), Bytes::from(vec![0; 10]), 4);
        // 30 bytes: over 25, the oldest goes.
        assert_eq!(q.expire(start + Duration::from_secs(9)), 1);
        assert_eq!(q.bytes(), 20);
        // At 16 s the second (made at 5 s) is 11 s old.
        assert_eq!(q.expire(start + Duration::from_secs(16)), 2);
        assert_eq!(q.front().map(|(_, n)| n), Some(4));
        q.pop();
        assert!(q.is_empty() && q.bytes() == 0);
    }
}
