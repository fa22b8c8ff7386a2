//! Configured URLs and where tokens may go: `url::endpoint`, `url::allow_entry` and
//! `url::is_allowed` on arbitrary strings (the facade hands canonical hrefs; anything may
//! come from a caller that bypassed it). Nothing panics; what is taken is taken unchanged; an
//! href is allowed only under an entry of the canonical form, on that entry's origin.
//!
//! Input: the configured text and an href, separated by a newline (which no URL accepted
//! here contains).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenkeeper::url::{
    allow_entry, endpoint, is_allowed, is_loopback_host, origin_of, without_query_and_fragment,
};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (configured, href) = text.split_once('\n').unwrap_or((&text, ""));
    let _ = is_loopback_host(configured);

    if let Ok(entry) = allow_entry(configured) {
        assert_eq!(entry, configured, "taken but changed");
        assert_eq!(allow_entry(&entry).as_ref(), Ok(&entry), "{configured:?}");
        assert_eq!(endpoint(&entry).as_ref(), Ok(&entry), "{configured:?}");
        assert!(entry.ends_with('/'));
        let list = std::slice::from_ref(&entry);
        assert!(is_allowed(&entry, list));
        if is_allowed(href, list) {
            assert!(href.starts_with(entry.as_str()));
            assert_eq!(
                origin_of(href),
                origin_of(&entry),
                "{href:?} under {entry:?}"
            );
        }
    }
    if let Ok(url) = endpoint(configured) {
        assert_eq!(endpoint(&url).as_ref(), Ok(&url), "{configured:?}");
        let origin = origin_of(&url).unwrap_or_else(|| panic!("no origin in {url:?}"));
        let htu = without_query_and_fragment(&url);
        let path = &htu[origin.len()..];
        assert!(path.starts_with('/'), "{url:?}");
        for segment in path.split('/') {
            let lower = segment.to_ascii_lowercase();
            assert!(
                !matches!(
                    lower.as_str(),
                    "." | ".." | "%2e" | ".%2e" | "%2e." | "%2e%2e"
                ),
                "a dot segment in {url:?}"
            );
        }
        if let Ok(entry) = allow_entry(configured) {
            assert_eq!(
                url, entry,
                "the two canonical forms of {configured:?} differ"
            );
        }
    }
    // Arbitrary text as an entry: it matches only in the canonical form (a prefix that is
    // an http(s) origin followed by `/`, and ends in `/`).
    let list = [configured.to_owned()];
    if is_allowed(href, &list) {
        assert!(href.starts_with(configured));
        assert!(configured.ends_with('/'));
        let origin = origin_of(configured).expect("an entry without an origin matched");
        assert_eq!(configured.as_bytes().get(origin.len()), Some(&b'/'));
        assert_eq!(origin_of(href), Some(origin));
    }
});
