//! The registered time claims and the time checks made with them.
//!
//! The current time is always passed in (`now_ms`, epoch milliseconds, as `Date.now()`), so
//! that every check is a pure function, testable with any clock.

/// The registered time claims of a payload (NumericDate: seconds, fractions allowed).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TimeClaims {
    /// `exp`: expiration time.
    pub exp: Option<f64>,
    /// `nbf`: not before.
    pub nbf: Option<f64>,
    /// `iat`: issued at.
    pub iat: Option<f64>,
}

impl TimeClaims {
    /// Whether the token has expired at `now_ms`: `now/1000 >= exp + leeway`.
    /// A token without `exp` never expires.
    pub fn is_expired(&self, now_ms: f64, leeway_seconds: f64) -> bool {
        match self.exp {
            Some(exp) => now_ms / 1000.0 >= exp + leeway_seconds,
            None => false,
        }
    }

    /// Seconds left until `exp` (negative once expired); `None` without `exp`.
    pub fn seconds_until_expiry(&self, now_ms: f64) -> Option<f64> {
        self.exp.map(|exp| exp - now_ms / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXP: f64 = 1_700_000_000.0;

    fn with_exp(exp: f64) -> TimeClaims {
        TimeClaims {
            exp: Some(exp),
            ..TimeClaims::default()
        }
    }

    #[test]
    fn expiry_is_inclusive_at_exp() {
        let c = with_exp(EXP);
        assert!(!c.is_expired(EXP * 1000.0 - 1.0, 0.0));
        assert!(c.is_expired(EXP * 1000.0, 0.0));
    }

    #[test]
    fn leeway_extends_validity() {
        let c = with_exp(EXP);
        assert!(!c.is_expired((EXP + 29.0) * 1000.0, 30.0));
        assert!(c.is_expired((EXP + 30.0) * 1000.0, 30.0));
    }

    #[test]
    fn fractional_exp() {
        let c = with_exp(EXP + 0.5);
        assert!(!c.is_expired(EXP * 1000.0 + 499.0, 0.0));
        assert!(c.is_expired(EXP * 1000.0 + 500.0, 0.0));
        assert_eq!(c.seconds_until_expiry(EXP * 1000.0), Some(0.5));
    }

    #[test]
    fn no_exp_never_expires() {
        let c = TimeClaims::default();
        assert!(!c.is_expired(f64::MAX, 0.0));
        assert_eq!(c.seconds_until_expiry(0.0), None);
    }

    #[test]
    fn seconds_until_expiry_goes_negative() {
        assert_eq!(
            with_exp(EXP).seconds_until_expiry((EXP + 10.0) * 1000.0),
            Some(-10.0)
        );
    }
}
