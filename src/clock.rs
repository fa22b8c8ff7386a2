//! The issuer's clock as the client sees it: how far the client's clock is from the one that
//! stamps `iat` and `exp`, estimated from what each token response says, and cross-checked
//! so that one bogus `Date` header can neither hand out an expired token nor start a refresh
//! loop (a client clock minutes off is common; a proxy with a broken clock too).

/// Differences smaller than this are network latency, not skew.
pub const LATENCY_MS: f64 = 2_000.0;
/// How far a `Date` header may be from the token's own evidence and still be believed.
pub const DATE_TOLERANCE_MS: f64 = 60_000.0;

/// The issuer's clock minus the client's, and a `Date`-only estimate awaiting confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct IssuerClock {
    skew_ms: f64,
    /// A `Date`-only estimate that would make tokens look longer-lived: believed only once a
    /// second response agrees with it.
    unconfirmed_ms: Option<f64>,
    /// The skew a server's `Date` gave when it refused a proof as badly timed: used for the
    /// `iat` of later proofs only, never for expiry (that answer carried no token to check it
    /// against, so it may be anything).
    proof_skew_ms: Option<f64>,
}

/// What a token response says about the time, besides the token.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Receipt {
    /// The client's clock at receipt, epoch ms.
    pub client_now_ms: f64,
    /// The response's `Date` header, epoch ms, if any (one-second resolution).
    pub date_ms: Option<f64>,
    /// The fresh token's `iat`, epoch seconds, if any.
    pub iat_s: Option<f64>,
    /// The fresh token's `exp`, epoch seconds, if any.
    pub exp_s: Option<f64>,
    /// The response's `expires_in`, seconds, if any.
    pub expires_in_s: Option<f64>,
}

impl IssuerClock {
    /// A clock `skew_ms` ahead of the client's (as restored from a record).
    pub fn with_skew(skew_ms: f64) -> IssuerClock {
        IssuerClock {
            skew_ms: if skew_ms.is_finite() { skew_ms } else { 0.0 },
            unconfirmed_ms: None,
            proof_skew_ms: None,
        }
    }

    /// Issuer time minus client time, ms.
    pub fn skew_ms(&self) -> f64 {
        self.skew_ms
    }

    /// The issuer's time now, epoch ms.
    pub fn issuer_now_ms(&self, client_now_ms: f64) -> f64 {
        client_now_ms + self.skew_ms
    }

    /// Learns from a token just received from the token endpoint.
    ///
    /// The token's own evidence — its `iat`, or `exp - expires_in` — is the issuer's time at
    /// issue; a `Date` header is the issuer's time now, finer but easier to get wrong. When
    /// both agree the header is used; when they disagree, the safer of the two; a header
    /// alone must pass the checks in [`Self::date_only`].
    pub fn learn(&mut self, r: Receipt) {
        let date = r
            .date_ms
            .filter(|d| d.is_finite())
            .map(|d| d + 500.0 - r.client_now_ms);
        let evidence = r
            .iat_s
            .or_else(|| Some(r.exp_s? - r.expires_in_s?))
            .filter(|t| t.is_finite())
            .map(|t| t * 1000.0 - r.client_now_ms);
        let expired_on_arrival = |skew: f64| {
            r.exp_s
                .is_some_and(|exp| exp * 1000.0 <= r.client_now_ms + skew)
        };
        let estimate = match (evidence, date) {
            (Some(e), Some(d)) if (d - e).abs() <= DATE_TOLERANCE_MS => Some(d),
            // They disagree: a broken Date, or a token the server issued earlier and handed
            // out again (its iat is old). Take the one that makes tokens look shorter-lived,
            // unless by it this token would be expired on arrival.
            (Some(e), Some(d)) => {
                let (sooner, later) = (e.max(d), e.min(d));
                Some(if expired_on_arrival(sooner) {
                    later
                } else {
                    sooner
                })
            }
            (Some(e), None) => Some(e),
            (None, Some(d)) => self.date_only(d, r),
            (None, None) => None,
        };
        if let Some(skew) = estimate {
            self.set(skew);
        }
    }

    /// A `Date`-only estimate: refused when the fresh token would be expired on arrival by it
    /// (a clock far ahead — that would loop); taken at once when it makes tokens look
    /// shorter-lived (the safe direction) or when the current estimate cannot be right (the
    /// token would be expired on arrival by it); otherwise taken once a second response
    /// agrees, so one header far in the past cannot make an expired token look fresh.
    fn date_only(&mut self, date_skew: f64, r: Receipt) -> Option<f64> {
        let left_ms = |skew: f64| r.exp_s.map(|exp| exp * 1000.0 - (r.client_now_ms + skew));
        if left_ms(date_skew).is_some_and(|left| left <= 0.0) {
            return None;
        }
        let confirmed = self
            .unconfirmed_ms
            .is_some_and(|u| (u - date_skew).abs() <= DATE_TOLERANCE_MS);
        if date_skew >= self.skew_ms - LATENCY_MS
            || left_ms(self.skew_ms).is_some_and(|left| left <= 0.0)
            || confirmed
        {
            Some(date_skew)
        } else {
            self.unconfirmed_ms = Some(date_skew);
            None
        }
    }

    /// Learns from an issue time (`iat`, or a restored record's `issuedAt`): the issuer cannot
    /// be earlier than a token it issued, so an issue time ahead of the issuer time estimated
    /// now means the estimate — or the client's clock — moved: a client clock set back while
    /// tokens sat in storage, or a clock behind at `setTokens`. A past issue time says
    /// nothing: it may simply be an old token.
    pub fn learn_from_issue_time(&mut self, client_now_ms: f64, issued_s: Option<f64>) {
        if let Some(issued) = issued_s.filter(|i| i.is_finite()) {
            let issued_ms = issued * 1000.0;
            if issued_ms - self.issuer_now_ms(client_now_ms) > LATENCY_MS + 3_000.0 {
                self.set(issued_ms - client_now_ms);
            }
        }
    }

    /// The time to put in a DPoP proof's `iat`, epoch ms: the issuer's time, or what a server
    /// that refused a proof as badly timed said its time was.
    pub fn proof_now_ms(&self, client_now_ms: f64) -> f64 {
        client_now_ms + self.proof_skew_ms.unwrap_or(self.skew_ms)
    }

    /// A server refused a proof of ours as badly timed and sent its `Date`: later proofs use
    /// it. Expiry does not: a refusal carries no token to cross-check the header against.
    pub fn adopt_date_for_proofs(&mut self, client_now_ms: f64, date_ms: f64) {
        if date_ms.is_finite() {
            self.proof_skew_ms = Some(date_ms + 500.0 - client_now_ms);
        }
    }

    fn set(&mut self, skew_ms: f64) {
        self.skew_ms = if skew_ms.abs() < LATENCY_MS {
            0.0
        } else {
            skew_ms
        };
        self.unconfirmed_ms = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: f64 = 1_700_000_000_000.0;
    const DAY_MS: f64 = 86_400_000.0;

    fn receipt(date_offset_ms: Option<f64>, iat: bool, lifetime_s: f64) -> Receipt {
        // The issuer's real time is NOW (client clock right) unless a test says otherwise.
        Receipt {
            client_now_ms: NOW,
            date_ms: date_offset_ms.map(|o| NOW + o),
            iat_s: iat.then_some(NOW / 1000.0),
            exp_s: Some(NOW / 1000.0 + lifetime_s),
            expires_in_s: None,
        }
    }

    #[test]
    fn a_date_header_agreeing_with_iat_is_used() {
        let mut c = IssuerClock::default();
        c.learn(receipt(Some(30_000.0), true, 300.0));
        assert_eq!(c.skew_ms(), 30_500.0);
    }

    #[test]
    fn a_refused_proofs_date_sets_the_proof_time_and_not_the_issuer_clock() {
        let mut c = IssuerClock::default();
        c.adopt_date_for_proofs(NOW, NOW - DAY_MS);
        assert_eq!(c.issuer_now_ms(NOW), NOW, "expiry is judged as before");
        assert_eq!(c.proof_now_ms(NOW), NOW - DAY_MS + 500.0);
        c.adopt_date_for_proofs(NOW, f64::NAN);
        assert_eq!(c.proof_now_ms(NOW), NOW - DAY_MS + 500.0);
        assert_eq!(
            IssuerClock::with_skew(5_000.0).proof_now_ms(NOW),
            NOW + 5_000.0
        );
    }

    #[test]
    fn a_date_header_a_day_off_loses_to_iat() {
        for offset in [DAY_MS, -DAY_MS] {
            let mut c = IssuerClock::default();
            c.learn(receipt(Some(offset), true, 300.0));
            assert_eq!(c.skew_ms(), 0.0, "{offset}");
        }
    }

    #[test]
    fn a_token_issued_earlier_and_handed_out_again_does_not_make_the_clock_look_behind() {
        // The server returns a cached token issued 10 min ago; its Date header is right.
        let mut c = IssuerClock::default();
        let r = Receipt {
            client_now_ms: NOW,
            date_ms: Some(NOW),
            iat_s: Some(NOW / 1000.0 - 600.0),
            exp_s: Some(NOW / 1000.0 + 300.0),
            expires_in_s: None,
        };
        c.learn(r);
        assert_eq!(c.skew_ms(), 0.0);
    }

    #[test]
    fn without_iat_exp_minus_expires_in_is_the_evidence() {
        let mut c = IssuerClock::default();
        let r = Receipt {
            client_now_ms: NOW,
            date_ms: Some(NOW - DAY_MS),
            iat_s: None,
            exp_s: Some((NOW + 600_000.0) / 1000.0 + 300.0),
            expires_in_s: Some(300.0),
        };
        c.learn(r);
        assert_eq!(c.skew_ms(), 600_000.0, "the client is 10 min behind");
    }

    #[test]
    fn a_date_only_header_far_ahead_that_would_expire_the_token_on_arrival_is_refused() {
        let mut c = IssuerClock::default();
        c.learn(receipt(Some(DAY_MS), false, 300.0));
        assert_eq!(c.skew_ms(), 0.0);
    }

    #[test]
    fn a_date_only_header_in_the_past_needs_a_second_response_to_agree() {
        let mut c = IssuerClock::default();
        c.learn(receipt(Some(-DAY_MS), false, 300.0));
        assert_eq!(c.skew_ms(), 0.0, "one bogus header changes nothing");
        c.learn(receipt(Some(-DAY_MS + 1_000.0), false, 300.0));
        assert_eq!(c.skew_ms(), -DAY_MS + 1_500.0, "confirmed by a second one");
    }

    #[test]
    fn a_date_only_header_is_taken_at_once_when_the_token_would_otherwise_be_expired() {
        // The client is 10 min ahead: by its clock the 5 s token expired before it arrived.
        let mut c = IssuerClock::default();
        let r = Receipt {
            client_now_ms: NOW + 600_000.0,
            date_ms: Some(NOW),
            iat_s: None,
            exp_s: Some(NOW / 1000.0 + 5.0),
            expires_in_s: None,
        };
        c.learn(r);
        assert_eq!(c.skew_ms(), -599_500.0);
    }

    #[test]
    fn a_date_only_header_ahead_is_taken_at_once() {
        let mut c = IssuerClock::default();
        let r = Receipt {
            client_now_ms: NOW - 600_000.0,
            date_ms: Some(NOW),
            iat_s: None,
            exp_s: Some(NOW / 1000.0 + 5.0),
            expires_in_s: None,
        };
        c.learn(r);
        assert_eq!(c.skew_ms(), 600_500.0);
    }

    #[test]
    fn latency_is_not_skew_and_only_a_future_issue_time_teaches() {
        let mut c = IssuerClock::default();
        c.learn(receipt(Some(1_000.0), true, 300.0));
        assert_eq!(c.skew_ms(), 0.0);
        c.learn_from_issue_time(NOW, Some(NOW / 1000.0 - 3600.0));
        assert_eq!(c.skew_ms(), 0.0, "an old token says nothing");
        c.learn_from_issue_time(NOW, Some(NOW / 1000.0 + 600.0));
        assert_eq!(c.skew_ms(), 600_000.0);
    }

    #[test]
    fn a_restored_estimate_is_corrected_when_the_clock_was_set_back() {
        // Stored with no skew; the client's clock has since gone back 5 minutes.
        let mut c = IssuerClock::with_skew(0.0);
        let issued = NOW / 1000.0;
        c.learn_from_issue_time(NOW - 300_000.0, Some(issued));
        assert_eq!(c.skew_ms(), 300_000.0);
        // A skew that already explains the issue time is left alone.
        let mut c = IssuerClock::with_skew(300_000.0);
        c.learn_from_issue_time(NOW - 300_000.0, Some(issued));
        assert_eq!(c.skew_ms(), 300_000.0);
    }
}
