//! What the refresh tests read back from their simulated tabs (tests/sim): sign-outs, error
//! events, the steps a tab took, and running until callers are answered.
#![allow(dead_code)]

use crate::sim::{World, T0};
use tokenkeeper::keeper::Event;
use tokenkeeper::record::ClearReason;
use tokenkeeper::refresh::Step;
use tokenkeeper::KeeperError;

pub fn cleared(world: &World, i: usize) -> Vec<ClearReason> {
    world.tabs[i]
        .events
        .iter()
        .filter_map(|e| {
            if let Event::Cleared(r) = e {
                Some(*r)
            } else {
                None
            }
        })
        .collect()
}

pub fn errors(world: &World, i: usize) -> Vec<(KeeperError, Option<f64>)> {
    world.tabs[i]
        .events
        .iter()
        .filter_map(|e| {
            if let Event::Error(err, r, _) = e {
                Some((*err, *r))
            } else {
                None
            }
        })
        .collect()
}

/// The steps tab `i` took that match `pick`, with their times relative to T0.
pub fn steps_where(w: &World, i: usize, pick: impl Fn(&Step) -> bool) -> Vec<(f64, Step)> {
    w.tabs[i]
        .steps
        .iter()
        .filter(|(_, s)| pick(s))
        .map(|(at, s)| (at - T0, s.clone()))
        .collect()
}

/// Runs in 1 ms steps until tab `i` has `n` settlements; the time relative to T0.
pub fn run_until_settled(w: &mut World, i: usize, n: usize, limit_ms: f64) -> f64 {
    while w.tabs[i].settlements.len() < n {
        assert!(w.now - T0 < limit_ms, "no settlement by {limit_ms} ms");
        w.run_until(w.now + 1.0, 1.0);
    }
    w.now - T0
}
