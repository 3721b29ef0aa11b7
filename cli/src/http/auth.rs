//! HTTP basic authentication against the bcrypt hashes of
//! `basic_auth_users`.
//!
//! bcrypt is slow by design (tens of milliseconds), so it runs on tokio's
//! blocking pool, and a header that was verified is remembered for
//! [`REMEMBERED_FOR`] (at most [`REMEMBERED`] of them), compared in
//! constant time. An unknown user costs a bcrypt verification too, so the
//! time of an answer does not tell which users exist.

use base64::Engine;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many verified `Authorization` headers are remembered.
const REMEMBERED: usize = 16;
/// How long a verified header is remembered.
const REMEMBERED_FOR: Duration = Duration::from_secs(60);

/// The users and the headers verified lately.
pub(crate) struct Auth {
    users: BTreeMap<String, String>,
    /// A hash of the users' cost that no password matches, verified for
    /// unknown users.
    decoy: String,
    verified: Mutex<Vec<(Vec<u8>, Instant)>>,
}

/// Whether two byte strings are equal, in time that depends only on their
/// lengths.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The user and password of a `Basic` `Authorization` header.
fn credentials(header: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(header).ok()?.trim();
    let (scheme, token) = text.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

impl Auth {
    /// Checks against `users` (user name to bcrypt hash, already checked
    /// to parse).
    pub(crate) fn new(users: BTreeMap<String, String>) -> Auth {
        let cost = users
            .values()
            .find_map(|h| h.parse::<bcrypt::HashParts>().ok())
            .map_or(bcrypt::DEFAULT_COST, |p| p.get_cost());
        let decoy = bcrypt::hash_with_salt("not a password", cost, [7; 16])
            .map_or_else(|_| String::new(), |h| h.to_string());
        Auth {
            users,
            decoy,
            verified: Mutex::new(Vec::new()),
        }
    }

    /// Whether `header` (the request's `Authorization`) names a user with
    /// the right password.
    pub(crate) async fn allows(&self, header: Option<&[u8]>) -> bool {
        let Some(header) = header else { return false };
        if self.remembered(header) {
            return true;
        }
        let Some((user, password)) = credentials(header) else {
            return false;
        };
        let (hash, known) = match self.users.get(&user) {
            Some(hash) => (hash.clone(), true),
            None => (self.decoy.clone(), false),
        };
        let ok = tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash))
            .await
            .is_ok_and(|r| r.unwrap_or(false))
            && known;
        if ok {
            self.remember(header);
        }
        ok
    }

    fn remembered(&self, header: &[u8]) -> bool {
        let now = Instant::now();
        let Ok(mut verified) = self.verified.lock() else {
            return false;
        };
        verified.retain(|(_, at)| now.duration_since(*at) < REMEMBERED_FOR);
        verified
            .iter()
            .fold(false, |found, (h, _)| found | same(h, header))
    }

    fn remember(&self, header: &[u8]) {
        if let Ok(mut verified) = self.verified.lock() {
            if verified.len() >= REMEMBERED {
                verified.remove(0);
            }
            verified.push((header.to_vec(), Instant::now()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Auth, credentials, same};
    use base64::Engine;
    use std::collections::BTreeMap;

    fn basic(s: &str) -> Vec<u8> {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(s)
        )
        .into_bytes()
    }

    #[test]
    fn parses_basic() {
        assert_eq!(
            credentials(&basic("alice:pa:ss")),
            Some(("alice".into(), "pa:ss".into()))
        );
        assert_eq!(credentials(b"Bearer abc"), None);
        assert_eq!(credentials(b"Basic !!!"), None);
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"ab", b"abc"));
    }

    #[test]
    fn verifies_with_bcrypt() {
        let hash = bcrypt::hash("secret", 4).unwrap();
        let auth = Auth::new(BTreeMap::from([("alice".to_string(), hash)]));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            assert!(auth.allows(Some(&basic("alice:secret"))).await);
            // Remembered now, and still right.
            assert!(auth.allows(Some(&basic("alice:secret"))).await);
            assert!(!auth.allows(Some(&basic("alice:wrong"))).await);
            assert!(!auth.allows(Some(&basic("bob:secret"))).await);
            assert!(!auth.allows(None).await);
        });
    }
}
