//! Helpers shared by the integration tests.

use std::time::{Duration, Instant};

/// Waits until `condition` holds, checking every few milliseconds, and
/// fails the test after ten seconds (`what` says what was awaited).
pub(crate) async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
