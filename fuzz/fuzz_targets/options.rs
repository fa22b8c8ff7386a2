//! The keeper's options: `keeper::config::parse_options` on arbitrary text, for a page with
//! an origin and for Node (no origin). Nothing panics, and whatever is accepted is within
//! the documented ranges, with canonical URLs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenkeeper::keeper::config::{parse_options, KeeperConfig, Page, RefreshVia, RevokeVia};
use tokenkeeper::url;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let page = Page {
        origin: Some("https://app.example".into()),
    };
    let with_origin = parse_options(&text, &page);
    let without = parse_options(&text, &Page::default());
    // The origin only changes the default allow-list, never whether options are accepted.
    assert_eq!(with_origin.is_ok(), without.is_ok(), "{text:?}");
    match (with_origin, without) {
        (Ok(a), Ok(b)) => {
            check(&a);
            check(&b);
            if b.allowed_origins.is_empty() && !a.allowed_origins.is_empty() {
                assert_eq!(a.allowed_origins, ["https://app.example/"]);
            }
        }
        (Err(a), Err(b)) => {
            assert_eq!(a, b);
            assert!(!a.why.is_empty());
        }
        _ => unreachable!(),
    }
});

fn check(c: &KeeperConfig) {
    assert!(!c.namespace.is_empty() && c.namespace.chars().count() <= 200);
    assert!((0.0..=86_400.0).contains(&c.refresh_before_s));
    assert!((0.0..=3_600.0).contains(&c.min_validity_s));
    assert!((1.0..=600_000.0).contains(&c.request_timeout_ms));
    assert!((1.0..=600_000.0).contains(&c.lock_timeout_ms));
    if let Some(idle) = c.idle_timeout_ms {
        assert!((1_000.0..=31_536_000_000.0).contains(&idle));
        assert!(
            c.idle_warning_ms < idle,
            "warning {} idle {idle}",
            c.idle_warning_ms
        );
    }
    assert!(c.idle_warning_ms.is_finite() && c.idle_warning_ms >= 0.0);
    if let Some(max) = c.max_session_ms {
        assert!((1_000.0..=315_576_000_000.0).contains(&max));
    }
    assert!((1..=100).contains(&c.retry.max_attempts));
    assert!(c.retry.base_delay_ms >= 0.0 && c.retry.base_delay_ms <= c.retry.max_delay_ms);
    assert!(c.retry.max_delay_ms <= 86_400_000.0);
    for entry in &c.allowed_origins {
        assert_eq!(url::allow_entry(entry).as_ref(), Ok(entry), "not canonical");
        assert!(url::is_allowed(entry, std::slice::from_ref(entry)));
    }
    if let RefreshVia::OAuth(client) = &c.refresh {
        assert_eq!(
            url::endpoint(&client.token_endpoint).as_ref(),
            Ok(&client.token_endpoint)
        );
        assert!(!client.client_id.is_empty());
        for (name, value) in &client.extra_params {
            assert!(!["grant_type", "refresh_token", "client_id", "scope"].contains(&name.as_str()));
            assert!(!value.starts_with('\u{0}'), "a marker became a parameter");
        }
    }
    if let RevokeVia::Endpoint(endpoint) = &c.revoke {
        assert_eq!(url::endpoint(endpoint).as_ref(), Ok(endpoint));
        assert!(matches!(c.refresh, RefreshVia::OAuth(_)));
    }
}
