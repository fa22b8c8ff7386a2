//! When things should happen: when to refresh, how long to back off, how far the client's
//! clock is from the issuer's, and timer chaining past the `setTimeout` limit. Pure
//! functions of the times (and random numbers) passed in.

/// The largest delay `setTimeout` honours: 2^31-1 ms (24.8 days). Longer delays overflow
/// and fire at once in every browser, so longer waits are chained.
pub const MAX_TIMER_DELAY_MS: f64 = 2_147_483_647.0;

/// The delay to arm a timer with, to wake at `at_ms` when it is `now_ms`: never negative,
/// never more than the `setTimeout` limit (a wait longer than that wakes early, finds
/// nothing due, and arms the next leg).
pub fn timer_delay(at_ms: f64, now_ms: f64) -> f64 {
    let delay = at_ms - now_ms;
    if delay.is_nan() || delay <= 0.0 {
        0.0
    } else {
        delay.min(MAX_TIMER_DELAY_MS).ceil()
    }
}

/// How early to refresh, and the least validity a token handed out must have, for a token
/// of `lifetime_s` seconds. Both shrink for short-lived tokens so that a token is used for
/// most of its life and never refreshed in a loop: the refresh margin is at most half of the
/// lifetime, and the minimum validity at most half of that margin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Margins {
    /// Refresh this many seconds before expiry.
    pub refresh_before_s: f64,
    /// Never hand out a token with less than this many seconds left.
    pub min_validity_s: f64,
}

/// The margins for a token that lives `lifetime_s` seconds (`None`: unknown lifetime).
pub fn margins(refresh_before_s: f64, min_validity_s: f64, lifetime_s: Option<f64>) -> Margins {
    let refresh_before_s = match lifetime_s {
        Some(l) if l.is_finite() && l > 0.0 => refresh_before_s.min(l / 2.0),
        _ => refresh_before_s,
    };
    Margins {
        refresh_before_s,
        min_validity_s: min_validity_s.min(refresh_before_s / 2.0),
    }
}

/// The least time between two refreshes of valid tokens: a floor against refresh storms
/// when a server hands out tokens that are (nearly) expired on arrival.
pub const MIN_REFRESH_INTERVAL_MS: f64 = 1_000.0;

/// When to refresh a token expiring at `exp_s` (issuer time, epoch seconds), in client
/// epoch ms: `margin` before expiry, minus a jitter of up to 10 % of the margin (at most 5 s)
/// so that many clients do not refresh in the same instant. `skew_ms` is issuer minus client
/// time; `jitter` is a random number in [0, 1).
pub fn refresh_at(exp_s: f64, margins: Margins, skew_ms: f64, jitter: f64) -> f64 {
    let spread_ms = (margins.refresh_before_s * 100.0).min(5_000.0);
    (exp_s - margins.refresh_before_s) * 1000.0 - skew_ms - jitter.clamp(0.0, 1.0) * spread_ms
}

/// Retry policy for failed refreshes (network errors, 5xx, 429).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts per refresh, the first included.
    pub max_attempts: u32,
    /// The delay before the second attempt, ms; doubles after each failure.
    pub base_delay_ms: f64,
    /// The longest delay, ms.
    pub max_delay_ms: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay_ms: 1_000.0,
            max_delay_ms: 30_000.0,
        }
    }
}

/// What to do after attempt `attempt` (1-based) of a refresh failed in a way worth retrying.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Backoff {
    /// Try again after this many ms.
    Wait(f64),
    /// The attempts are used up.
    GiveUp,
    /// The server asked for a longer pause (`Retry-After`, ms) than `retry.maxDelayMs`
    /// allows: end this sequence; the next one waits for it.
    ServerAsksForLonger(f64),
}

/// The wait before attempt `attempt + 1` after `attempt` failed: exponential with "equal
/// jitter" (half fixed, half random), capped, and never shorter than the server's
/// `Retry-After` — which is honoured up to the cap and ends the sequence beyond it.
pub fn backoff(
    policy: RetryPolicy,
    attempt: u32,
    retry_after_ms: Option<f64>,
    jitter: f64,
) -> Backoff {
    let retry_after_ms = retry_after_ms.filter(|r| r.is_finite() && *r > 0.0);
    if let Some(r) = retry_after_ms.filter(|r| *r > policy.max_delay_ms) {
        return Backoff::ServerAsksForLonger(r);
    }
    if attempt >= policy.max_attempts {
        return Backoff::GiveUp;
    }
    let exponent = attempt.saturating_sub(1).min(30) as i32;
    let ceiling = (policy.base_delay_ms * 2f64.powi(exponent)).min(policy.max_delay_ms);
    let delay = ceiling / 2.0 + ceiling / 2.0 * jitter.clamp(0.0, 1.0);
    Backoff::Wait(delay.max(retry_after_ms.unwrap_or(0.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_MS: f64 = 86_400_000.0;

    #[test]
    fn short_delays_are_exact_and_past_times_fire_now() {
        assert_eq!(timer_delay(1_500.0, 1_000.0), 500.0);
        assert_eq!(timer_delay(1_000.0, 1_000.0), 0.0);
        assert_eq!(timer_delay(500.0, 1_000.0), 0.0);
        assert_eq!(timer_delay(f64::NAN, 1_000.0), 0.0);
    }

    #[test]
    fn a_40_day_wait_is_chained_in_legs_under_the_limit() {
        let start = 1_700_000_000_000.0;
        let due = start + 40.0 * DAY_MS;
        let mut now = start;
        let mut legs = 0;
        while now < due {
            let d = timer_delay(due, now);
            assert!(d > 0.0 && d <= MAX_TIMER_DELAY_MS, "leg {legs}: {d}");
            now += d;
            legs += 1;
        }
        assert_eq!(legs, 2);
        assert_eq!(now, due);
    }

    #[test]
    fn margins_shrink_for_short_tokens() {
        // A 5 s token with refreshBeforeSeconds 2 keeps the 2 s margin and is refreshed
        // after 3 s of its life; the 5 s minimum validity shrinks to 1 s.
        assert_eq!(
            margins(2.0, 5.0, Some(5.0)),
            Margins {
                refresh_before_s: 2.0,
                min_validity_s: 1.0
            }
        );
        // A 1 s token with the defaults: refreshed at half its life, not continuously.
        assert_eq!(
            margins(60.0, 5.0, Some(1.0)),
            Margins {
                refresh_before_s: 0.5,
                min_validity_s: 0.25
            }
        );
        assert_eq!(
            margins(60.0, 5.0, Some(3600.0)),
            Margins {
                refresh_before_s: 60.0,
                min_validity_s: 5.0
            }
        );
        assert_eq!(
            margins(60.0, 5.0, None),
            Margins {
                refresh_before_s: 60.0,
                min_validity_s: 5.0
            }
        );
        assert_eq!(margins(60.0, 5.0, Some(-1.0)).refresh_before_s, 60.0);
        let issued = 1_000.0;
        let at = refresh_at(issued + 5.0, margins(2.0, 5.0, Some(5.0)), 0.0, 0.0);
        assert_eq!(at, (issued + 3.0) * 1000.0);
    }

    #[test]
    fn refresh_time_uses_issuer_time_and_jitters_earlier_only() {
        let m = Margins {
            refresh_before_s: 60.0,
            min_validity_s: 5.0,
        };
        let exp = 1_700_000_000.0;
        assert_eq!(refresh_at(exp, m, 0.0, 0.0), (exp - 60.0) * 1000.0);
        // The client is 10 minutes behind the issuer (skew +600 s): refresh 10 min earlier by its clock.
        assert_eq!(
            refresh_at(exp, m, 600_000.0, 0.0),
            (exp - 60.0) * 1000.0 - 600_000.0
        );
        for j in [0.0, 0.3, 0.999] {
            let at = refresh_at(exp, m, 0.0, j);
            assert!(
                at <= (exp - 60.0) * 1000.0 && at >= (exp - 65.0) * 1000.0,
                "{j}: {at}"
            );
        }
        let short = Margins {
            refresh_before_s: 1.0,
            min_validity_s: 0.5,
        };
        assert!(
            refresh_at(exp, short, 0.0, 0.999) >= (exp - 1.1) * 1000.0,
            "jitter is 10 % of a small margin"
        );
    }

    #[test]
    fn backoff_doubles_with_equal_jitter_and_stops() {
        let p = RetryPolicy::default();
        let wait = |attempt, retry_after, jitter| match backoff(p, attempt, retry_after, jitter) {
            Backoff::Wait(ms) => ms,
            other => panic!("{other:?}"),
        };
        let bounds: Vec<(f64, f64)> = (1..5)
            .map(|a| (wait(a, None, 0.0), wait(a, None, 0.999_999)))
            .collect();
        assert_eq!(bounds[0].0, 500.0);
        assert!((bounds[0].1 - 1000.0).abs() < 0.01);
        assert_eq!(bounds[1].0, 1000.0);
        assert_eq!(bounds[2].0, 2000.0);
        assert_eq!(bounds[3].0, 4000.0);
        assert_eq!(
            backoff(p, 5, None, 0.5),
            Backoff::GiveUp,
            "five attempts in all"
        );
        let capped = RetryPolicy {
            max_attempts: 50,
            ..p
        };
        assert!(matches!(backoff(capped, 40, None, 0.999), Backoff::Wait(d) if d <= 30_000.0));
        assert_eq!(
            wait(1, Some(2_000.0), 0.0),
            2_000.0,
            "Retry-After is honoured"
        );
        assert_eq!(wait(3, Some(100.0), 0.0), 2_000.0);
    }

    #[test]
    fn a_retry_after_longer_than_the_cap_ends_the_sequence_instead_of_waiting() {
        let p = RetryPolicy {
            max_delay_ms: 1_000.0,
            ..RetryPolicy::default()
        };
        assert_eq!(
            backoff(p, 1, Some(3_600_000.0), 0.5),
            Backoff::ServerAsksForLonger(3_600_000.0)
        );
        assert_eq!(
            backoff(p, 1, Some(3_000_000_000.0), 0.5),
            Backoff::ServerAsksForLonger(3_000_000_000.0)
        );
        assert_eq!(backoff(p, 1, Some(f64::NAN), 0.0), Backoff::Wait(500.0));
    }
}
