//! [`Classify`]: which successful responses a tracker counts as errors.

use http::{Response, StatusCode};

/// Tells which responses (the `Ok` results of a service) are failures, to
/// be counted in the tracker's `errors`. An `Err` is always one.
///
/// Implemented by [`ServerErrors`] (the default), [`ErrorsOnly`], and
/// every `Fn(StatusCode) -> bool` (a predicate over the status of an
/// [`http::Response`]). The layer keeps one classifier and clones it into
/// each request's future: make it a unit struct, a function or a closure
/// capturing nothing (all free to copy).
///
/// # Examples
///
/// A service whose responses carry their own outcome:
///
/// ```
/// use cantal_tower::Classify;
///
/// enum Reply { Done, Refused }
///
/// #[derive(Clone, Copy)]
/// struct Refusals;
///
/// impl Classify<Reply> for Refusals {
///     fn is_failure(&self, response: &Reply) -> bool {
///         matches!(response, Reply::Refused)
///     }
/// }
///
/// assert!(Refusals.is_failure(&Reply::Refused));
/// assert!(!Refusals.is_failure(&Reply::Done));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot tell whether a `{R}` is a failure",
    note = "for services whose responses are not `http::Response`, use \
            `RequestTrackerLayer::classify(ErrorsOnly)` or implement `Classify<{R}>`"
)]
pub trait Classify<R> {
    /// Whether `response` counts as an error.
    fn is_failure(&self, response: &R) -> bool;
}

/// The default classifier: an [`http::Response`] with a 5xx status is a
/// failure (a 4xx is the client's error, not the service's).
///
/// # Examples
///
/// ```
/// use cantal_tower::{Classify, ServerErrors};
/// use http::{Response, StatusCode};
///
/// let mut response = Response::new(());
/// assert!(!ServerErrors.is_failure(&response));
/// *response.status_mut() = StatusCode::NOT_FOUND;
/// assert!(!ServerErrors.is_failure(&response));
/// *response.status_mut() = StatusCode::BAD_GATEWAY;
/// assert!(ServerErrors.is_failure(&response));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerErrors;

impl<B> Classify<Response<B>> for ServerErrors {
    #[inline]
    fn is_failure(&self, response: &Response<B>) -> bool {
        response.status().is_server_error()
    }
}

/// A classifier for any response type: only an `Err` of the service (or
/// a panic) counts as an error. For services that do not speak HTTP.
///
/// # Examples
///
/// ```
/// use cantal_tower::{Classify, ErrorsOnly};
///
/// assert!(!ErrorsOnly.is_failure(&"anything"));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErrorsOnly;

impl<R> Classify<R> for ErrorsOnly {
    #[inline]
    fn is_failure(&self, _response: &R) -> bool {
        false
    }
}

/// A predicate over the status: `|status: StatusCode| status.is_server_error()
/// || status == StatusCode::TOO_MANY_REQUESTS`.
impl<F, B> Classify<Response<B>> for F
where
    F: Fn(StatusCode) -> bool,
{
    #[inline]
    fn is_failure(&self, response: &Response<B>) -> bool {
        self(response.status())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_status(code: u16) -> Response<()> {
        let mut response = Response::new(());
        *response.status_mut() = StatusCode::from_u16(code).unwrap();
        response
    }

    #[test]
    fn server_errors_are_exactly_5xx() {
        for code in [100, 200, 204, 301, 399, 400, 404, 429, 499] {
            assert!(!ServerErrors.is_failure(&with_status(code)), "{code}");
        }
        for code in [500, 502, 503, 599] {
            assert!(ServerErrors.is_failure(&with_status(code)), "{code}");
        }
    }

    #[test]
    fn predicates_see_the_status() {
        let not_ok = |status: StatusCode| status != StatusCode::OK;
        assert!(!not_ok.is_failure(&with_status(200)));
        assert!(not_ok.is_failure(&with_status(201)));
        fn teapots(status: StatusCode) -> bool {
            status == StatusCode::IM_A_TEAPOT
        }
        assert!(teapots.is_failure(&with_status(418)));
        assert!(!teapots.is_failure(&with_status(500)));
    }

    #[test]
    fn errors_only_accepts_every_response() {
        assert!(!ErrorsOnly.is_failure(&with_status(500)));
        assert!(!ErrorsOnly.is_failure(&Err::<(), u8>(1)));
    }
}
