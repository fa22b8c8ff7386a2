//! The servers' DPoP nonces (RFC 9449 §8, §9), the latest one per origin, bounded.

use super::syntax::{is_nonce, is_ows, skip};

/// The most origins whose nonce is kept: more than a page talks to with DPoP, few enough that
/// nothing a page does can grow the list.
pub const MAX_NONCE_ORIGINS: usize = 16;

/// The longest nonce kept, in bytes. Real nonces are tens of characters; the bound keeps a
/// misbehaving server from parking megabytes in wasm memory.
pub const MAX_NONCE_LEN: usize = 4096;

/// The servers' current nonces, per origin. RFC 9449 §8 and §9: a server that wants nonces
/// sends one in `DPoP-Nonce`, may replace it with any response, and the client puts the
/// latest one it got from that server in its next proof to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Nonces {
    /// (origin, nonce), the least recently replaced first.
    entries: Vec<(String, String)>,
}

impl Nonces {
    /// No nonces yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps `header_value` (a `DPoP-Nonce` response header, surrounding spaces and tabs
    /// trimmed) as the nonce of `origin`, replacing the one before. Returns false, keeping the
    /// old one, if the value is not a nonce (empty, too long, characters outside NQCHAR — which
    /// includes the `, ` that joins two headers of the same name) or the origin is empty.
    /// Beyond [`MAX_NONCE_ORIGINS`], the origin whose nonce is the oldest is forgotten.
    pub fn remember(&mut self, origin: &str, header_value: &str) -> bool {
        let nonce = trim_ows(header_value);
        if origin.is_empty() || nonce.len() > MAX_NONCE_LEN || !is_nonce(nonce) {
            return false;
        }
        let entry = match self.entries.iter().position(|(o, _)| o == origin) {
            Some(i) => {
                let mut entry = self.entries.remove(i);
                entry.1.clear();
                entry.1.push_str(nonce);
                entry
            }
            None => {
                if self.entries.len() >= MAX_NONCE_ORIGINS {
                    self.entries.remove(0);
                }
                (origin.into(), nonce.into())
            }
        };
        self.entries.push(entry);
        true
    }

    /// The latest nonce of `origin`, for its next proof.
    pub fn for_origin(&self, origin: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(o, _)| o == origin)
            .map(|(_, n)| n.as_str())
    }

    /// Forgets every nonce (on sign-out: the next session starts without them).
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

/// `text` without leading and trailing spaces and tabs (HTTP's optional white space).
fn trim_ows(text: &str) -> &str {
    let bytes = text.as_bytes();
    let start = skip(bytes, 0, is_ows);
    let mut end = bytes.len();
    while end > start && is_ows(bytes[end - 1]) {
        end -= 1;
    }
    // Both ends are at ASCII bytes or the text's ends, so they are char boundaries.
    text.get(start..end).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_nonce_replaces_the_old_one_for_its_origin_only() {
        let mut nonces = Nonces::new();
        assert_eq!(nonces.for_origin("https://a.example"), None);
        assert!(nonces.remember("https://a.example", "n1"));
        assert!(nonces.remember("https://b.example", "m1"));
        assert!(nonces.remember("https://a.example", "n2"));
        assert_eq!(nonces.for_origin("https://a.example"), Some("n2"));
        assert_eq!(nonces.for_origin("https://b.example"), Some("m1"));
        assert_eq!(nonces.for_origin("https://c.example"), None);
        nonces.clear();
        assert_eq!(nonces.for_origin("https://a.example"), None);
    }

    #[test]
    fn invalid_nonce_headers_are_ignored_and_keep_the_old_nonce() {
        let mut nonces = Nonces::new();
        assert!(nonces.remember("https://a.example", "  good\t"));
        assert_eq!(nonces.for_origin("https://a.example"), Some("good"));
        let too_long = "n".repeat(MAX_NONCE_LEN + 1);
        for bad in ["", "  ", "two, joined", "quo\"te", "é", &too_long] {
            assert!(!nonces.remember("https://a.example", bad), "{bad:?}");
        }
        assert!(!nonces.remember("", "fine"));
        assert_eq!(nonces.for_origin("https://a.example"), Some("good"));
        assert_eq!(nonces.for_origin(""), None);
        assert!(nonces.remember("https://a.example", &"n".repeat(MAX_NONCE_LEN)));
    }

    #[test]
    fn the_nonce_list_is_bounded_and_forgets_the_oldest_nonce_first() {
        let mut nonces = Nonces::new();
        let origin = |i: usize| format!("https://{i}.example");
        for i in 0..MAX_NONCE_ORIGINS {
            assert!(nonces.remember(&origin(i), "n"));
        }
        // Origin 0 gets a fresh nonce, so origin 1 now holds the oldest.
        assert!(nonces.remember(&origin(0), "fresh"));
        assert!(nonces.remember(&origin(100), "new"));
        assert_eq!(nonces.entries.len(), MAX_NONCE_ORIGINS);
        assert_eq!(nonces.for_origin(&origin(1)), None);
        assert_eq!(nonces.for_origin(&origin(0)), Some("fresh"));
        assert_eq!(nonces.for_origin(&origin(100)), Some("new"));
        for i in 200..1000 {
            nonces.remember(&origin(i), "n");
        }
        assert_eq!(nonces.entries.len(), MAX_NONCE_ORIGINS);
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod no_panic {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn nonce_bookkeeping_never_panics(pairs in proptest::collection::vec((any::<String>(), any::<String>()), 0..40)) {
                let mut nonces = Nonces::new();
                for (origin, value) in &pairs {
                    let kept = nonces.remember(origin, value);
                    if kept {
                        prop_assert!(nonces.for_origin(origin).is_some());
                    }
                    prop_assert!(nonces.entries.len() <= MAX_NONCE_ORIGINS);
                }
            }
        }
    }
}
