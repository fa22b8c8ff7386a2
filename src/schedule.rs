//! When things should happen: timer chaining past the `setTimeout` limit, and (for the
//! refresh engine) when to refresh. Pure functions of the times passed in.

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
}
