//! Which URLs the library accepts as configuration, and where it may send tokens: the
//! policy, over canonical hrefs.
//!
//! The facade puts every configured URL (`oauth.tokenEndpoint`, `oauth.revocationEndpoint`,
//! each `allowedOrigins` entry) through the platform's WHATWG URL parser, `new URL(text)`
//! (`js/runtime/config-urls.js`), the parser that also resolves each request URL
//! (`js/runtime/page.js`). Both sides of every comparison are then in the one canonical form
//! the parser writes, and what is left here is the policy: the scheme, a loopback host for
//! `http:`, no userinfo, no fragment, and an entry's form (an origin, or a path prefix ending
//! in `/`). Text that is not in that canonical form (from a caller that bypassed the facade)
//! is refused, never repaired: a second parser here could only disagree with the platform's.

use crate::tokens::marker;

/// Why a configured URL was refused. Each maps to one fixed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlError {
    /// A space, tab, newline or other control character: the URL parser strips or drops
    /// them silently, so it would read a different URL from the one written.
    Whitespace,
    /// A backslash: browsers read it as `/` in http(s) URLs.
    Backslash,
    /// Not `scheme://host...`: relative (`/path`), scheme-relative (`//host`), `https:host`
    /// or `https:///host`.
    NotAbsolute,
    /// The platform's URL parser refused it (a bad host, port or IP address); the facade
    /// sends [`marker::NOT_A_URL`] in its place.
    NotAUrl,
    /// A scheme other than `https:` and `http:` (`javascript:`, `ftp:`, `data:`, ...).
    Scheme,
    /// `http:` on a host that is not loopback: the token would cross the network in clear.
    InsecureHttp,
    /// `user@` or `user:password@` before the host: credentials in a URL, and the classic
    /// way to make `https://trusted@evil/` look trusted.
    Userinfo,
    /// A fragment in any configured URL, or a query in an `allowedOrigins` entry.
    QueryOrFragment,
    /// Not in the form `new URL(text).href` writes (upper case in the scheme or host, a
    /// default port, a dot segment, a non-ASCII character...): only a caller that bypassed
    /// the facade sends that.
    NotCanonical,
    /// An `allowedOrigins` entry whose path does not end in `/`: it would match
    /// `/v2` and `/v2-admin` alike.
    NotOriginOrPrefix,
}

impl UrlError {
    /// A fixed message naming what is wrong. Static text: it keeps the formatting machinery
    /// out of the wasm module.
    pub fn message(self) -> &'static str {
        match self {
            UrlError::Whitespace => "must not contain spaces, tabs, newlines or control characters",
            UrlError::Backslash => "must not contain backslashes (browsers read them as /)",
            UrlError::NotAbsolute => {
                "must be an absolute URL starting with https:// (or http:// on localhost)"
            }
            UrlError::NotAUrl => {
                "is not a URL that new URL() accepts (check the host and the port)"
            }
            UrlError::Scheme => "must be https:, or http: on localhost, 127.0.0.0/8 or [::1]",
            UrlError::InsecureHttp => {
                "http: is only allowed on localhost, 127.0.0.0/8 or [::1]; use https:"
            }
            UrlError::Userinfo => "must not contain a user name or password (user@host)",
            UrlError::QueryOrFragment => {
                "must not have a fragment (#), and an allowedOrigins entry no query (?) either"
            }
            UrlError::NotCanonical => {
                "must be in the form new URL(text).href gives (create keepers through TokenKeeper)"
            }
            UrlError::NotOriginOrPrefix => {
                "each entry must be an origin (https://host[:port]) or a URL prefix ending \
                 in /"
            }
        }
    }
}

/// A token or revocation endpoint, given as a canonical href: `https:` (or `http:` on
/// loopback), no userinfo, no fragment. A query is allowed: RFC 6749 §3.2 allows one on the
/// token endpoint.
pub fn endpoint(href: &str) -> Result<String, UrlError> {
    check(href)?;
    Ok(href.to_owned())
}

/// An `allowedOrigins` entry, given as a canonical href. An origin's href ends in `/`
/// (`https://host[:port]/`), which matches everything on that origin and nothing else; any
/// longer path must end in `/` too, to be a prefix of whole segments.
pub fn allow_entry(href: &str) -> Result<String, UrlError> {
    let path_start = check(href)?;
    if href.contains('?') {
        return Err(UrlError::QueryOrFragment);
    }
    if !href.ends_with('/') || href.len() <= path_start {
        return Err(UrlError::NotOriginOrPrefix);
    }
    Ok(href.to_owned())
}

/// Checks what both kinds of configured URL share; answers where the path starts.
///
/// In a canonical http(s) href the first `/`, `?` or `#` after `//` ends the authority, the
/// path always starts with `/`, and the first `?` or `#` ends the path: the parser
/// percent-encodes those characters anywhere else.
fn check(href: &str) -> Result<usize, UrlError> {
    if href == marker::NOT_A_URL {
        return Err(UrlError::NotAUrl);
    }
    let bytes = href.as_bytes();
    if bytes.iter().any(|&b| b <= b' ' || b == 0x7f) {
        return Err(UrlError::Whitespace);
    }
    if bytes.contains(&b'\\') {
        return Err(UrlError::Backslash);
    }
    let colon = bytes
        .iter()
        .position(|&b| b == b':')
        .ok_or(UrlError::NotAbsolute)?;
    let (scheme, rest) = bytes.split_at(colon);
    if !is_scheme(scheme) {
        return Err(UrlError::NotAbsolute);
    }
    let secure = match scheme {
        b"https" => true,
        b"http" => false,
        _ if scheme.eq_ignore_ascii_case(b"https") || scheme.eq_ignore_ascii_case(b"http") => {
            return Err(UrlError::NotCanonical)
        }
        _ => return Err(UrlError::Scheme),
    };
    let rest = rest.strip_prefix(b"://").ok_or(UrlError::NotAbsolute)?;
    let authority_len = rest
        .iter()
        .position(|&b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    let (authority, rest) = rest.split_at(authority_len);
    if authority.contains(&b'@') {
        return Err(UrlError::Userinfo);
    }
    if authority.is_empty() {
        return Err(UrlError::NotAbsolute);
    }
    let path_len = rest
        .iter()
        .position(|&b| b == b'?' || b == b'#')
        .unwrap_or(rest.len());
    let path = rest.get(..path_len).unwrap_or_default();
    let (host, port) = split_host_and_port(authority);
    let canonical = href.is_ascii()
        && is_canonical_host(host)
        && is_canonical_port(port, if secure { b"443" } else { b"80" })
        && path.first() == Some(&b'/')
        && !path
            .split(|&b| b == b'/')
            .any(|s| is_single_dot(s) || is_double_dot(s));
    if !canonical {
        return Err(UrlError::NotCanonical);
    }
    if !secure && !std::str::from_utf8(host).is_ok_and(is_loopback_host) {
        return Err(UrlError::InsecureHttp);
    }
    if bytes.contains(&b'#') {
        return Err(UrlError::QueryOrFragment);
    }
    Ok(colon + 3 + authority.len())
}

/// A URL scheme as the parser reads one: a letter, then letters, digits, `+`, `-`, `.`.
/// Anything else before the first `:` means there is no scheme.
fn is_scheme(scheme: &[u8]) -> bool {
    match scheme.split_first() {
        Some((first, rest)) => {
            first.is_ascii_alphabetic()
                && rest
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        }
        None => false,
    }
}

/// Splits `host[:port]` (the host possibly a bracketed IPv6 address, whose colons are its
/// own). Text after a `]` that is not a port stays with the port, to be refused.
fn split_host_and_port(authority: &[u8]) -> (&[u8], Option<&[u8]>) {
    let host_len = match authority.first() {
        Some(b'[') => authority
            .iter()
            .position(|&b| b == b']')
            .map_or(authority.len(), |i| i + 1),
        _ => authority
            .iter()
            .position(|&b| b == b':')
            .unwrap_or(authority.len()),
    };
    let (host, rest) = authority.split_at(host_len);
    match rest.split_first() {
        Some((b':', port)) => (host, Some(port)),
        Some(_) => (host, Some(rest)),
        None => (host, None),
    }
}

/// Whether `host` is as the URL parser writes a host: a lower-case IPv6 address in brackets
/// (hex and colons), an IPv4 address in dotted decimal, or a lower-case ASCII domain without
/// the code points the parser forbids in one. A domain ending in a number is an IPv4
/// address to the parser, so it must be one in dotted decimal (`127.1` is written
/// `127.0.0.1`).
fn is_canonical_host(host: &[u8]) -> bool {
    if let Some(inner) = host.strip_prefix(b"[").and_then(|h| h.strip_suffix(b"]")) {
        return is_canonical_ipv6(inner);
    }
    let forbidden = |b: &u8| {
        b.is_ascii_uppercase()
            || matches!(
                b,
                b'#' | b'%' | b'/' | b':' | b'<' | b'>' | b'?' | b'@' | b'[' | b']' | b'^' | b'|'
            )
    };
    !host.is_empty()
        && !host.iter().any(forbidden)
        && (!ends_in_a_number(host) || dotted_quad(host).is_some())
}

/// Whether `text` is an IPv6 address as the URL standard serialises one: eight pieces of
/// lower-case hex without leading zeros, the first longest run of two or more zero pieces
/// written `::`.
fn is_canonical_ipv6(text: &[u8]) -> bool {
    let Some(at) = text.windows(2).position(|w| w == b"::") else {
        return matches!(ipv6_pieces(text), Some((8, 0 | 1, ..)));
    };
    let (head, tail) = (text.get(..at), text.get(at + 2..));
    match (head.and_then(ipv6_pieces), tail.and_then(ipv6_pieces)) {
        (Some((before, run_before, _, zero_last)), Some((after, run_after, zero_first, _))) => {
            let gap = 8usize.saturating_sub(before + after);
            // The compressed run must be the first longest one, and all of that run.
            before + after <= 6 && run_before < gap && run_after <= gap && !zero_last && !zero_first
        }
        _ => false,
    }
}

/// The pieces on one side of an IPv6 address's `::` (or of all of it): how many, the longest
/// run of zero pieces, and whether the first and the last are zero. `None` when a piece is
/// not lower-case hex without leading zeros (an empty piece included: a second `::`).
fn ipv6_pieces(part: &[u8]) -> Option<(usize, usize, bool, bool)> {
    if part.is_empty() {
        return Some((0, 0, false, false));
    }
    let (mut count, mut run, mut longest, mut zero_first) = (0, 0, 0, false);
    for piece in part.split(|&b| b == b':') {
        let canonical = matches!(piece.len(), 1..=4)
            && piece.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            && (piece.len() == 1 || piece.first() != Some(&b'0'));
        if !canonical {
            return None;
        }
        let zero = piece == b"0";
        zero_first |= count == 0 && zero;
        run = if zero { run + 1 } else { 0 };
        longest = longest.max(run);
        count += 1;
    }
    Some((count, longest, zero_first, run > 0))
}

/// Whether the URL standard's parser would read `host` as an IPv4 address: its last label
/// (before one trailing dot) is a number, decimal, `0x` hex or octal.
fn ends_in_a_number(host: &[u8]) -> bool {
    let host = match host.strip_suffix(b".") {
        Some(stripped) if !stripped.is_empty() => stripped,
        _ => host,
    };
    let last = host.rsplit(|&b| b == b'.').next().unwrap_or(host);
    match last {
        [] => false,
        [b'0', b'x' | b'X', hex @ ..] => hex.iter().all(u8::is_ascii_hexdigit),
        decimal => decimal.iter().all(u8::is_ascii_digit),
    }
}

/// Whether `port` is as the parser writes one: absent, or decimal digits without a leading
/// zero, at most 65535, and not the scheme's default (which the parser drops).
fn is_canonical_port(port: Option<&[u8]>, default: &[u8]) -> bool {
    let Some(port) = port else {
        return true;
    };
    let digits = port.iter().all(u8::is_ascii_digit)
        && matches!(port.len(), 1..=5)
        && (port.len() == 1 || port.first() != Some(&b'0'));
    digits
        && port != default
        && port.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0')) <= 65_535
}

/// Whether a canonical href (from the WHATWG URL parser) lies inside one of the canonical
/// entries. Every entry ends in `/` after its host and port, so a longer host, another port,
/// userinfo, or text in the query can never pass for it. Entries not in that form (an empty
/// string, say) match nothing.
///
/// After a path-prefix entry (`https://api.example.com/v2/`), the rest of the path must not
/// hold an encoded separator or dot (`%2f`, `%5c`, `%2e`, `%25`, any case) nor a dot segment
/// with parameters (`..;`): the URL parser leaves those alone, but servers that decode before
/// routing (or read `..;` as `..`, as Tomcat does) would serve a path outside the prefix.
pub fn is_allowed(href: &str, entries: &[String]) -> bool {
    entries.iter().any(|entry| {
        let Some(rest) = href.as_bytes().strip_prefix(entry.as_bytes()) else {
            return false;
        };
        is_entry_form(entry) && (is_origin_wide(entry) || !escapes_a_prefix(rest))
    })
}

/// Whether `href` lies inside an entry that is a whole origin (not only a path prefix): where
/// a same-origin redirect, which keeps `Authorization`, cannot leave the list.
pub fn is_inside_an_origin_entry(href: &str, entries: &[String]) -> bool {
    entries.iter().any(|entry| {
        is_entry_form(entry)
            && is_origin_wide(entry)
            && href.as_bytes().starts_with(entry.as_bytes())
    })
}

/// Whether an entry is a whole origin (`https://host[:port]/`), which no path can escape.
fn is_origin_wide(entry: &str) -> bool {
    origin_of(entry).is_some_and(|origin| origin.len() + 1 == entry.len())
}

/// Whether the path after a prefix (`rest`, up to its query or fragment) holds something a
/// decoding server could route outside the prefix.
fn escapes_a_prefix(rest: &[u8]) -> bool {
    let path_len = rest
        .iter()
        .position(|&b| b == b'?' || b == b'#')
        .unwrap_or(rest.len());
    let path = rest.get(..path_len).unwrap_or(rest);
    // `%2f` `/`, `%5c` `\`, `%2e` `.`, `%25` `%` (which may hide any of them), any case.
    let encoded = path.windows(3).any(|w| match *w {
        [b'%', hi, lo] => matches!(
            (hi, lo.to_ascii_lowercase()),
            (b'2', b'f' | b'e' | b'5') | (b'5', b'c')
        ),
        _ => false,
    });
    let dot_with_parameters = path.split(|&b| b == b'/').any(|segment| {
        let mut parts = segment.split(|&b| b == b';');
        let name = parts.next().unwrap_or_default();
        parts.next().is_some() && (name == b"." || name == b"..")
    });
    encoded || dot_with_parameters
}

/// Whether `entry` is `http(s)://host[:port]/...` ending in `/`, as [`allow_entry`] takes them.
fn is_entry_form(entry: &str) -> bool {
    match origin_of(entry) {
        Some(origin) => {
            entry.as_bytes().get(origin.len()) == Some(&b'/') && entry.as_bytes().ends_with(b"/")
        }
        None => false,
    }
}

/// The origin of a canonical `http(s)` href, `scheme://host[:port]`, for per-origin
/// bookkeeping. `None` for other schemes, an empty host, and hrefs with userinfo (whose
/// origin is not a prefix of the href).
pub fn origin_of(href: &str) -> Option<&str> {
    let bytes = href.as_bytes();
    let start = if bytes.starts_with(b"https://") {
        8
    } else if bytes.starts_with(b"http://") {
        7
    } else {
        return None;
    };
    let authority = bytes.get(start..)?;
    let len = authority
        .iter()
        .position(|&b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(authority.len());
    let authority = authority.get(..len)?;
    if authority.is_empty() || authority.contains(&b'@') {
        return None;
    }
    href.get(..start + len)
}

/// A canonical href without its query and fragment: the DPoP `htu` (RFC 9449 §4.2). In a
/// canonical href the first `?` or `#` starts the query or fragment; the path has them
/// percent-encoded.
pub fn without_query_and_fragment(href: &str) -> &str {
    let end = href
        .as_bytes()
        .iter()
        .position(|&b| b == b'?' || b == b'#')
        .unwrap_or(href.len());
    href.get(..end).unwrap_or(href)
}

/// Whether a lower-case canonical host is loopback: `localhost`, `127.x.y.z` or `[::1]`,
/// the hosts on which plain `http:` cannot leave the machine. Names that merely start
/// with them (`localhost.evil.com`, `127.0.0.1.nip.io`) are ordinary hosts.
pub fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host == "[::1]"
        || matches!(dotted_quad(host.as_bytes()), Some([127, _, _, _]))
}

/// The four octets of an IPv4 address written as the URL parser writes it: four decimal
/// numbers up to 255, without leading zeros and without a trailing dot.
fn dotted_quad(host: &[u8]) -> Option<[u8; 4]> {
    let mut octets = [0u8; 4];
    let mut parts = host.split(|&b| b == b'.');
    for octet in octets.iter_mut() {
        let part = parts.next()?;
        let canonical = matches!(part.len(), 1..=3)
            && part.iter().all(u8::is_ascii_digit)
            && (part.len() == 1 || part.first() != Some(&b'0'));
        if !canonical {
            return None;
        }
        let value = part.iter().fold(0u16, |n, &d| n * 10 + u16::from(d - b'0'));
        *octet = u8::try_from(value).ok()?;
    }
    match parts.next() {
        None => Some(octets),
        Some(_) => None,
    }
}

/// `.` or `%2e`: the URL standard's single-dot segment.
fn is_single_dot(segment: &[u8]) -> bool {
    segment == b"." || segment.eq_ignore_ascii_case(b"%2e")
}

/// `..`, `.%2e`, `%2e.` or `%2e%2e`: the URL standard's double-dot segment.
fn is_double_dot(segment: &[u8]) -> bool {
    [&b".."[..], b".%2e", b"%2e.", b"%2e%2e"]
        .iter()
        .any(|form| segment.eq_ignore_ascii_case(form))
}

#[cfg(test)]
mod tests {
    //! Configured URLs arrive as `new URL(text).href` gives them (the hrefs below are such
    //! hrefs, checked in Node); `tests/js/url-policy.node.test.mjs` holds the whole path,
    //! facade included, to a reference written over `new URL()` on a generated corpus.
    use super::*;

    fn entries(hrefs: &[&str]) -> Vec<String> {
        hrefs.iter().map(|t| allow_entry(t).unwrap()).collect()
    }

    #[test]
    fn canonical_hrefs_are_taken_as_they_are() {
        for href in [
            "https://api.example.com/",
            "https://api.example.com:8443/",
            "https://api.example.com/v2/",
            "https://a_b.example/",
            "https://xn--bcher-kva.de/",
            "https://example.com./",
            "https://10.0.0.255/",
            "https://[2001:db8::1]/",
            "https://[::]/",
            "https://[1:0:0:2::3]/",
            "https://[1::2:0:0:3:4]/",
            "https://[1:2:3:4:5:6:7:8]/",
            "https://[1:0:2:3:4:5:6:7]/",
            "https://[1::]/",
            "https://[::ffff:7f00:1]/",
            "https://x:0/",
            "https://x/a;b=c/d:e@f/!$&'()*+,~_-./",
            "https://x/%zz/%41%2f/",
            "https://x//",
        ] {
            assert_eq!(allow_entry(href).as_deref(), Ok(href), "{href}");
            assert_eq!(endpoint(href).as_deref(), Ok(href), "{href}");
        }
        assert_eq!(
            endpoint("https://x/token?tenant=a%20b&x=/?:@").as_deref(),
            Ok("https://x/token?tenant=a%20b&x=/?:@")
        );
        assert_eq!(endpoint("https://x/v2").as_deref(), Ok("https://x/v2"));
    }

    #[test]
    fn loopback_http_is_accepted() {
        for href in [
            "http://127.0.0.1:8080/",
            "http://127.255.255.254/",
            "http://[::1]:3000/x/",
            "http://localhost/",
        ] {
            assert_eq!(allow_entry(href).as_deref(), Ok(href), "{href}");
        }
        assert_eq!(
            endpoint("http://localhost:8080/token").as_deref(),
            Ok("http://localhost:8080/token")
        );
    }

    #[test]
    fn http_elsewhere_is_refused() {
        for href in [
            "http://example.com/",
            "http://0.0.0.0/",
            "http://localhost.evil.com/",
            "http://127.0.0.1.nip.io/",
            "http://128.0.0.1/",
            "http://[::2]/",
            "http://[::ffff:7f00:1]/",
            "http://localhost./",
            "http://sub.localhost/",
        ] {
            assert_eq!(endpoint(href), Err(UrlError::InsecureHttp), "{href}");
            assert_eq!(allow_entry(href), Err(UrlError::InsecureHttp), "{href}");
        }
    }

    #[test]
    fn loopback_is_exactly_localhost_127_slash_8_and_ipv6_one() {
        for host in [
            "localhost",
            "127.0.0.1",
            "127.0.0.0",
            "127.255.255.255",
            "[::1]",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "localhost.evil.com",
            "127.0.0.1.nip.io",
            "0.0.0.0",
            "127.1",
            "127.0.0.01",
            "0x7f.0.0.1",
            "[::]",
            "::1",
            "LOCALHOST",
            "",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn other_schemes_are_refused() {
        for text in [
            "ftp://x/",
            "javascript:alert(1)",
            "data:text/html,x",
            "file:///etc/passwd",
            "wss://x/",
            "localhost:8080",
            "blob:https://x/1",
        ] {
            assert_eq!(endpoint(text), Err(UrlError::Scheme), "{text}");
            assert_eq!(allow_entry(text), Err(UrlError::Scheme), "{text}");
        }
    }

    #[test]
    fn relative_and_scheme_relative_urls_are_refused() {
        // The facade hands such text over as written (it reads differently from what the
        // parser would make of it).
        for text in [
            "/relative",
            "relative/path",
            "//host/path",
            "https:host/path",
            "https:/host/path",
            "https:///host/path",
            "",
            ":",
            "1https://x/",
        ] {
            assert_eq!(endpoint(text), Err(UrlError::NotAbsolute), "{text}");
            assert_eq!(allow_entry(text), Err(UrlError::NotAbsolute), "{text}");
        }
    }

    #[test]
    fn what_the_url_parser_refused_is_refused_saying_so() {
        assert_eq!(endpoint(marker::NOT_A_URL), Err(UrlError::NotAUrl));
        assert_eq!(allow_entry(marker::NOT_A_URL), Err(UrlError::NotAUrl));
    }

    #[test]
    fn whitespace_controls_and_backslashes_are_refused() {
        for text in [
            " https://x/",
            "https://x/ ",
            "https://x/\n",
            "https://x/a\tb",
            "https://x/\u{7f}",
            "\0https://x/",
        ] {
            assert_eq!(endpoint(text), Err(UrlError::Whitespace), "{text:?}");
        }
        for text in ["https://x\\evil.com/", "https:\\\\x/", "https://x/a\\b"] {
            assert_eq!(endpoint(text), Err(UrlError::Backslash), "{text}");
        }
    }

    #[test]
    fn userinfo_is_refused() {
        for href in [
            "https://api.example.com@evil.com/",
            "https://user:pw@api.example.com/",
            "https://:pw@api.example.com/",
            "http://localhost@evil.com/",
        ] {
            assert_eq!(endpoint(href), Err(UrlError::Userinfo), "{href}");
            assert_eq!(allow_entry(href), Err(UrlError::Userinfo), "{href}");
        }
        assert_eq!(
            endpoint("https://x/a@b").as_deref(),
            Ok("https://x/a@b"),
            "an @ in the path is not userinfo"
        );
    }

    #[test]
    fn a_fragment_is_refused_and_an_entry_has_no_query() {
        for href in ["https://x/token#", "https://x/token?a#b", "https://x/#a"] {
            assert_eq!(endpoint(href), Err(UrlError::QueryOrFragment), "{href}");
            assert_eq!(allow_entry(href), Err(UrlError::QueryOrFragment), "{href}");
        }
        assert_eq!(endpoint("https://x/?").as_deref(), Ok("https://x/?"));
        assert_eq!(allow_entry("https://x/?q"), Err(UrlError::QueryOrFragment));
        assert_eq!(allow_entry("https://x/?"), Err(UrlError::QueryOrFragment));
    }

    #[test]
    fn an_entry_path_must_end_in_a_slash() {
        assert_eq!(
            allow_entry("https://x/v2"),
            Err(UrlError::NotOriginOrPrefix)
        );
        assert_eq!(
            allow_entry("https://x/v2/a"),
            Err(UrlError::NotOriginOrPrefix)
        );
    }

    #[test]
    fn text_the_url_parser_would_rewrite_is_refused_not_repaired() {
        // What a JavaScript caller that bypassed the facade might send: each is refused,
        // none is read as the parser would read it.
        for text in [
            "HTTPS://x/",
            "Https://x/",
            "https://API.example.com/",
            "https://x",
            "https://x?q",
            "https://x:443/",
            "http://localhost:80/",
            "https://x:0443/",
            "https://x:/",
            "https://x:65536/",
            "https://x:8a/",
            "https://x:-1/",
            "https://x:1:2/",
            "https://127.1/",
            "https://0x7f.0.0.1/",
            "https://127.0.0.01/",
            "https://2130706433/",
            "https://127.0.0.1./",
            "https://1.2.3.4.5/",
            "https://example.123/",
            "https://x.0x1f/",
            "https://ex%61mple.com/",
            "https://b\u{fc}cher.de/",
            "https://x/caf\u{e9}/",
            "https://x/?caf\u{e9}",
            "https://a^b/",
            "https://a|b/",
            "https://[::1/",
            "https://[::1]x/",
            "https://[::1]:/",
            "https://[0:0:0:0:0:0:0:1]/",
            "https://[2001:DB8::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[]/",
            "https://[::0001]/",
            "https://[1:0:0:2:0:0:0:3]/",
            "https://[1:2:3:4:5:6:7::]/",
            "https://[1::2:3:4:5:6:7:8]/",
            "https://[1:2:3:4:5:6:7]/",
            "https://[1:2:3:4:5:6:7:8:9]/",
            "https://[1::2::3]/",
            "https://[1:0::2:0:0:3]/",
            "https://[1::3:0:0:0:4]/",
            "https://[1:2:3:4:5:6:0:0]/",
            "https://[:::]/",
            "https://[12345::]/",
            "https://[g::]/",
            "https://x/v2/../v1/",
            "https://x/v2/%2e%2e/v1/",
            "https://x/v2/.%2E/",
            "https://x/a/./b/",
            "https://x/a/%2E/b/",
            "https://x/a/..",
            "https://x/a/.",
        ] {
            assert_eq!(endpoint(text), Err(UrlError::NotCanonical), "{text}");
            assert_eq!(allow_entry(text), Err(UrlError::NotCanonical), "{text}");
        }
        assert_eq!(
            endpoint("http://127.1/"),
            Err(UrlError::NotCanonical),
            "not canonical comes before the loopback rule"
        );
    }

    #[test]
    fn an_entry_matches_everything_under_its_prefix() {
        let list = entries(&["https://api.example.com/", "https://x/v2/"]);
        assert!(is_allowed("https://api.example.com/", &list));
        assert!(is_allowed("https://api.example.com/a/b?c#d", &list));
        assert!(is_allowed("https://x/v2/", &list));
        assert!(is_allowed("https://x/v2/users?id=1", &list));
        assert!(!is_allowed("https://x/v2", &list));
        assert!(!is_allowed("https://x/v3/", &list));
        assert!(!is_allowed("https://x/v2-admin/", &list));
    }

    #[test]
    fn a_prefix_does_not_match_a_longer_host() {
        let list = entries(&["https://api.example.com/"]);
        assert!(!is_allowed("https://api.example.com.evil.com/", &list));
        assert!(!is_allowed("https://api.example.community/", &list));
    }

    #[test]
    fn a_port_must_match_exactly() {
        let list = entries(&["http://localhost:8080/"]);
        assert!(is_allowed("http://localhost:8080/api", &list));
        assert!(!is_allowed("http://localhost:80801/", &list));
        assert!(!is_allowed("http://localhost/", &list));
        let list = entries(&["https://x/"]);
        assert!(!is_allowed("https://x:8443/", &list));
        assert!(!is_allowed("http://x/", &list), "the scheme is part of it");
    }

    #[test]
    fn an_href_with_userinfo_never_matches() {
        let list = entries(&["https://api.example.com/"]);
        assert!(!is_allowed("https://api.example.com@evil.com/", &list));
        assert!(!is_allowed("https://user@api.example.com/", &list));
    }

    #[test]
    fn a_query_or_fragment_cannot_fake_a_prefix() {
        let list = entries(&["https://api.example.com/"]);
        assert!(!is_allowed(
            "https://evil.com/?https://api.example.com/",
            &list
        ));
        assert!(!is_allowed(
            "https://evil.com/#https://api.example.com/",
            &list
        ));
    }

    #[test]
    fn a_resolved_dot_dot_path_is_outside_the_prefix() {
        let list = entries(&["https://x/v2/"]);
        // `https://x/v2/../v1/x` as the WHATWG parser hands it over.
        assert!(!is_allowed("https://x/v1/x", &list));
        // An encoded slash is not a separator: the parser leaves the segment alone.
        assert!(!is_allowed("https://x/v2%2f..%2fv1/", &list));
    }

    #[test]
    fn encoded_separators_and_dots_after_a_path_prefix_are_outside_it() {
        // The URL parser leaves these segments alone; a server that decodes before routing
        // would serve /admin.
        let list = entries(&["https://x/v2/"]);
        for href in [
            "https://x/v2/..%2Fadmin",
            "https://x/v2/..%2fadmin",
            "https://x/v2/%2e%2e%2fadmin",
            "https://x/v2/%2E%2E%2Fadmin",
            "https://x/v2/..%5cadmin",
            "https://x/v2/..%5Cadmin",
            "https://x/v2/%252e%252e%252fadmin",
            "https://x/v2/..%252fadmin",
            "https://x/v2/a/..;/..;/admin",
            "https://x/v2/..;/admin",
            "https://x/v2/..;x=1/admin",
            "https://x/v2/.;/a",
        ] {
            assert!(!is_allowed(href, &list), "{href}");
        }
        // What stays inside: plain names, parameters on ordinary segments, and escapes in
        // the query (not a path).
        for href in [
            "https://x/v2/users/1",
            "https://x/v2/a;b=1/c",
            "https://x/v2/...;/c",
            "https://x/v2/a%20b",
            "https://x/v2/search?q=..%2fadmin",
            "https://x/v2/a#%2e%2e",
        ] {
            assert!(is_allowed(href, &list), "{href}");
        }
        // A whole origin cannot be escaped by its path: nothing changes for it.
        let origin = entries(&["https://x/"]);
        assert!(is_allowed("https://x/v2/..%2Fadmin", &origin));
    }

    #[test]
    fn malformed_entries_match_nothing() {
        let list = vec![
            String::new(),
            "/".to_string(),
            "https://".to_string(),
            "https:///".to_string(),
            "https://x".to_string(),
            "https://x?/".to_string(),
        ];
        for href in ["https://x/", "https://x/a/", "https://xy/"] {
            assert!(!is_allowed(href, &list), "{href}");
        }
        assert!(!is_allowed("https://x/", &[]));
    }

    #[test]
    fn the_origin_is_scheme_host_and_port() {
        assert_eq!(origin_of("https://x/a?b#c"), Some("https://x"));
        assert_eq!(
            origin_of("http://localhost:8080"),
            Some("http://localhost:8080")
        );
        assert_eq!(
            origin_of("https://[::1]:3000/x"),
            Some("https://[::1]:3000")
        );
        assert_eq!(origin_of("https://x?a/b"), Some("https://x"));
        assert_eq!(origin_of("https://user@x/"), None);
        assert_eq!(origin_of("https:///"), None);
        assert_eq!(origin_of("blob:https://x/1"), None);
        assert_eq!(origin_of("ftp://x/"), None);
        assert_eq!(origin_of(""), None);
    }

    #[test]
    fn htu_drops_the_query_and_fragment() {
        assert_eq!(
            without_query_and_fragment("https://x/token?a=b#c"),
            "https://x/token"
        );
        assert_eq!(without_query_and_fragment("https://x/t#c?d"), "https://x/t");
        assert_eq!(without_query_and_fragment("https://x/t"), "https://x/t");
        assert_eq!(without_query_and_fragment(""), "");
    }

    /// The URL standard's IPv6 serialiser: hex pieces, the first longest run of two or more
    /// zero pieces as `::`.
    fn serialise_ipv6(pieces: [u16; 8], compress: Option<(usize, usize)>) -> String {
        let mut out = String::new();
        let mut i = 0;
        while i < 8 {
            if let Some((start, len)) = compress.filter(|&(start, _)| start == i) {
                out += if i == 0 { "::" } else { ":" };
                i = start + len;
                continue;
            }
            out += &format!("{:x}", pieces[i]);
            if i < 7 {
                out += ":";
            }
            i += 1;
        }
        out
    }

    #[test]
    fn ipv6_is_taken_only_as_the_url_standard_writes_it() {
        // Every address of pieces 0, 1 and ffff: its canonical text is taken; the same address
        // with no run compressed, or another run of zeros compressed, is refused.
        for n in 0..3u32.pow(8) {
            let pieces: [u16; 8] =
                std::array::from_fn(|i| [0, 1, 0xffff][(n / 3u32.pow(i as u32) % 3) as usize]);
            let mut runs = Vec::new();
            let mut i = 0;
            while i < 8 {
                let len = pieces[i..].iter().take_while(|&&p| p == 0).count();
                if len >= 2 {
                    runs.push((i, len));
                }
                i += len.max(1);
            }
            let first_longest =
                runs.iter()
                    .copied()
                    .fold(None, |best: Option<(usize, usize)>, run| match best {
                        Some(b) if b.1 >= run.1 => Some(b),
                        _ => Some(run),
                    });
            let canonical = serialise_ipv6(pieces, first_longest);
            assert!(is_canonical_ipv6(canonical.as_bytes()), "{canonical}");
            for run in runs.iter().copied().filter(|&r| Some(r) != first_longest) {
                let other = serialise_ipv6(pieces, Some(run));
                assert!(!is_canonical_ipv6(other.as_bytes()), "{other}");
            }
            if first_longest.is_some() {
                let full = serialise_ipv6(pieces, None);
                assert!(!is_canonical_ipv6(full.as_bytes()), "{full}");
            }
        }
    }

    #[test]
    fn every_error_has_a_message() {
        for e in [
            UrlError::Whitespace,
            UrlError::Backslash,
            UrlError::NotAbsolute,
            UrlError::NotAUrl,
            UrlError::Scheme,
            UrlError::InsecureHttp,
            UrlError::Userinfo,
            UrlError::QueryOrFragment,
            UrlError::NotCanonical,
            UrlError::NotOriginOrPrefix,
        ] {
            assert!(!e.message().is_empty(), "{e:?}");
        }
        assert_eq!(
            UrlError::Scheme.message(),
            "must be https:, or http: on localhost, 127.0.0.0/8 or [::1]"
        );
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        /// URL-shaped text: mostly near-canonical, with the parts the parser rewrites.
        fn url_text() -> impl Strategy<Value = String> {
            let scheme = prop_oneof![
                Just("https://"),
                Just("HTTP://"),
                Just("http://"),
                Just("ftp://"),
                Just("https:"),
                Just("//"),
                Just(""),
            ];
            let host = prop_oneof![
                Just("api.example.com".to_string()),
                Just("LOCALHOST".to_string()),
                Just("localhost".to_string()),
                Just("127.0.0.1".to_string()),
                Just("127.1".to_string()),
                Just("[::1]".to_string()),
                Just("[0:0::1]".to_string()),
                "[0-9a-fA-F:.\\[\\]]{0,12}",
                "[a-zA-Z0-9.@%_-]{0,12}",
            ];
            let port = prop_oneof![
                Just(String::new()),
                Just(":".to_string()),
                Just(":443".to_string()),
                Just(":80".to_string()),
                ":[0-9]{1,6}",
            ];
            let segment = prop_oneof![
                Just(".".to_string()),
                Just("..".to_string()),
                Just("%2e".to_string()),
                Just("%2E.".to_string()),
                Just(String::new()),
                "[a-zA-Z0-9%._~!$&'()*+,;=:@-]{1,6}",
            ];
            let path = proptest::collection::vec(segment, 0..6).prop_map(|s| {
                if s.is_empty() {
                    String::new()
                } else {
                    format!("/{}", s.join("/"))
                }
            });
            let tail = prop_oneof![
                Just(String::new()),
                "\\?[a-z=&%?/.]{0,6}",
                "#[a-z@/.]{0,6}",
                any::<String>(),
            ];
            (scheme, host, port, path, tail)
                .prop_map(|(s, h, p, path, t)| format!("{s}{h}{p}{path}{t}"))
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 4000, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn arbitrary_strings_never_panic(s in any::<String>(), href in any::<String>()) {
                let _ = endpoint(&s);
                let _ = allow_entry(&s);
                let _ = origin_of(&s);
                let _ = without_query_and_fragment(&s);
                let _ = is_loopback_host(&s);
                let _ = is_allowed(&href, std::slice::from_ref(&s));
            }

            #[test]
            fn what_is_taken_is_an_http_origin_and_a_path(text in url_text(), href in url_text()) {
                if let Ok(entry) = allow_entry(&text) {
                    prop_assert_eq!(&entry, &text);
                    prop_assert_eq!(endpoint(&entry), Ok(entry.clone()));
                    prop_assert!(entry.ends_with('/'));
                    prop_assert!(is_allowed(&entry, std::slice::from_ref(&entry)));
                    if is_allowed(&href, std::slice::from_ref(&entry)) {
                        prop_assert_eq!(origin_of(&href), origin_of(&entry));
                    }
                }
                if let Ok(url) = endpoint(&text) {
                    let origin = origin_of(&url);
                    prop_assert!(origin.is_some(), "{}", url);
                    let htu = without_query_and_fragment(&url);
                    let path = htu.get(origin.map_or(0, str::len)..).unwrap_or("");
                    prop_assert!(path.starts_with('/'), "{}", url);
                    for segment in path.split('/') {
                        prop_assert!(!is_single_dot(segment.as_bytes()) && !is_double_dot(segment.as_bytes()), "{}", url);
                    }
                }
            }
        }
    }
}
