//! Which URLs the library accepts as configuration, and where it may send tokens.
//!
//! At run time the JavaScript side resolves a request URL with the platform's WHATWG URL
//! parser and asks [`is_allowed`] about the canonical href. That answer is a byte prefix
//! test, so the configured URLs are put here in exactly the form that parser gives. Only an
//! ASCII subset is accepted: wherever the parser would rewrite or percent-encode something
//! (other than lower-casing, a default port and dot segments), the URL is refused rather
//! than rewritten here, so that a mismatch can only ever refuse a request, never allow one.

/// Why a configured URL was refused. Each maps to one fixed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlError {
    /// A space, tab, newline or other control character: the URL parser strips or drops
    /// them silently, so it would read a different URL from the one written.
    Whitespace,
    /// A backslash: browsers read it as `/` in http(s) URLs.
    Backslash,
    /// Not `scheme://host...`: relative (`/path`), scheme-relative (`//host`) or `https:host`.
    NotAbsolute,
    /// A scheme other than `https:` and `http:` (`javascript:`, `ftp:`, `data:`, ...).
    Scheme,
    /// `http:` on a host that is not loopback: the token would cross the network in clear.
    InsecureHttp,
    /// `user@` or `user:password@` before the host: credentials in a URL, and the classic
    /// way to make `https://trusted@evil/` look trusted.
    Userinfo,
    /// A fragment in any configured URL, or a query in an `allowedOrigins` entry.
    QueryOrFragment,
    /// An empty or non-ASCII host, a character no host has, or an IP address in a form the
    /// URL parser would rewrite (`127.1`, `0x7f.0.0.1`, `[0:0:0:0:0:0:0:1]`).
    BadHost,
    /// A port that is not a number from 1 to 65535.
    BadPort,
    /// A path character the URL parser would percent-encode, or a `%` not followed by two
    /// hex digits.
    BadPath,
    /// A query character the URL parser would percent-encode, or a `%` not followed by two
    /// hex digits.
    BadQuery,
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
            UrlError::Scheme => "must be https:, or http: on localhost, 127.0.0.0/8 or [::1]",
            UrlError::InsecureHttp => {
                "http: is only allowed on localhost, 127.0.0.0/8 or [::1]; use https:"
            }
            UrlError::Userinfo => "must not contain a user name or password (user@host)",
            UrlError::QueryOrFragment => {
                "must not have a fragment (#), and an allowedOrigins entry no query (?) either"
            }
            UrlError::BadHost => {
                "the host must be an ASCII domain name (punycode for international names), \
                 an IPv4 address in dotted decimal or an IPv6 address as browsers write it, \
                 e.g. [::1]"
            }
            UrlError::BadPort => "the port must be a number from 1 to 65535",
            UrlError::BadPath => {
                "the path has a character that must be percent-encoded (space, quotes, <>, \
                 [], {}, |, ^, `, non-ASCII) or a % not followed by two hex digits"
            }
            UrlError::BadQuery => {
                "the query has a character that must be percent-encoded (space, quotes, <>, \
                 [], {}, |, ^, `, non-ASCII) or a % not followed by two hex digits"
            }
            UrlError::NotOriginOrPrefix => {
                "each entry must be an origin (https://host[:port]) or a URL prefix ending \
                 in /"
            }
        }
    }
}

/// A token or revocation endpoint, in canonical form: absolute, `https:` (or `http:` on
/// loopback), no userinfo, no fragment. A query is kept as written: RFC 6749 §3.2 allows
/// one on the token endpoint.
pub fn endpoint(text: &str) -> Result<String, UrlError> {
    let url = split(text)?;
    if url.fragment {
        return Err(UrlError::QueryOrFragment);
    }
    let mut out = url.origin;
    push_path(&mut out, url.path);
    if let Some(query) = url.query {
        if !query.iter().all(|&b| b != b'\'' && is_query_byte(b)) || !escapes_are_whole(query) {
            return Err(UrlError::BadQuery);
        }
        out.push('?');
        push_ascii(&mut out, query);
    }
    Ok(out)
}

/// An `allowedOrigins` entry, in canonical form: a prefix ending in `/`. An origin becomes
/// `https://host[:port]/`, which matches everything on that origin and nothing else.
pub fn allow_entry(text: &str) -> Result<String, UrlError> {
    let url = split(text)?;
    if url.fragment || url.query.is_some() {
        return Err(UrlError::QueryOrFragment);
    }
    let mut out = url.origin;
    push_path(&mut out, url.path);
    if !out.ends_with('/') {
        return Err(UrlError::NotOriginOrPrefix);
    }
    Ok(out)
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

/// Whether `entry` is `http(s)://host[:port]/...` ending in `/`, as [`allow_entry`] makes them.
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

/// A configured URL split at its delimiters, its origin already checked and canonical.
struct Split<'a> {
    /// `scheme://host[:port]`, lower case, without a default port.
    origin: String,
    /// The path as written: empty or starting with `/`, characters checked.
    path: &'a [u8],
    /// The query as written, without its `?`; not checked.
    query: Option<&'a [u8]>,
    /// Whether there is a fragment (even an empty one).
    fragment: bool,
}

/// Splits and checks everything both kinds of configured URL share.
fn split(text: &str) -> Result<Split<'_>, UrlError> {
    let bytes = text.as_bytes();
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
    let secure = if scheme.eq_ignore_ascii_case(b"https") {
        true
    } else if scheme.eq_ignore_ascii_case(b"http") {
        false
    } else {
        return Err(UrlError::Scheme);
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
    let (host, port) = split_host_and_port(authority)?;

    let mut origin = String::with_capacity(text.len() + 1);
    origin.push_str(if secure { "https://" } else { "http://" });
    let host_start = origin.len();
    push_host(&mut origin, host)?;
    if !secure && !origin.get(host_start..).is_some_and(is_loopback_host) {
        return Err(UrlError::InsecureHttp);
    }
    let default_port = if secure { 443 } else { 80 };
    match port_number(port)? {
        Some(port) if port != default_port => {
            origin.push(':');
            push_decimal(&mut origin, port);
        }
        _ => {}
    }

    let path_len = rest
        .iter()
        .position(|&b| b == b'?' || b == b'#')
        .unwrap_or(rest.len());
    let (path, rest) = rest.split_at(path_len);
    if !path.iter().all(|&b| is_path_byte(b)) || !escapes_are_whole(path) {
        return Err(UrlError::BadPath);
    }
    let (query, fragment) = match rest.split_first() {
        Some((b'?', query)) => match query.iter().position(|&b| b == b'#') {
            Some(len) => (Some(query.split_at(len).0), true),
            None => (Some(query), false),
        },
        Some(_) => (None, true),
        None => (None, false),
    };
    Ok(Split {
        origin,
        path,
        query,
        fragment,
    })
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

/// Splits `host[:port]` (the host possibly a bracketed IPv6 address, whose colons are its own).
fn split_host_and_port(authority: &[u8]) -> Result<(&[u8], Option<&[u8]>), UrlError> {
    let host_len = if authority.first() == Some(&b'[') {
        authority
            .iter()
            .position(|&b| b == b']')
            .ok_or(UrlError::BadHost)?
            + 1
    } else {
        authority
            .iter()
            .position(|&b| b == b':')
            .unwrap_or(authority.len())
    };
    let (host, rest) = authority.split_at(host_len);
    match rest.split_first() {
        None => Ok((host, None)),
        Some((b':', port)) => Ok((host, Some(port))),
        Some(_) => Err(UrlError::BadHost),
    }
}

/// Appends the canonical form of a host, refusing every host the URL parser would rewrite
/// beyond lower-casing.
fn push_host(out: &mut String, host: &[u8]) -> Result<(), UrlError> {
    if let Some(inner) = host.strip_prefix(b"[") {
        let inner = inner.strip_suffix(b"]").ok_or(UrlError::BadHost)?;
        let canonical = ipv6(inner).ok_or(UrlError::BadHost)?;
        if !canonical.as_bytes().eq_ignore_ascii_case(inner) {
            return Err(UrlError::BadHost);
        }
        out.push('[');
        out.push_str(&canonical);
        out.push(']');
        return Ok(());
    }
    let labels = host.strip_suffix(b".").unwrap_or(host);
    let well_formed = !labels.is_empty()
        && labels
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && labels.split(|&b| b == b'.').all(|label| !label.is_empty());
    if !well_formed || (ends_in_a_number(host) && dotted_quad(host).is_none()) {
        return Err(UrlError::BadHost);
    }
    out.extend(host.iter().map(|b| b.to_ascii_lowercase() as char));
    Ok(())
}

/// The URL standard's "ends in a number": such a host is parsed as an IPv4 address (and
/// `127.1` or `0x7f.0.0.1` rewritten), never kept as a domain.
fn ends_in_a_number(host: &[u8]) -> bool {
    let host = match host.strip_suffix(b".") {
        Some(stripped) if !stripped.is_empty() => stripped,
        _ => host,
    };
    let last = host.rsplit(|&b| b == b'.').next().unwrap_or(host);
    !last.is_empty() && (last.iter().all(u8::is_ascii_digit) || is_ipv4_number(last))
}

/// Whether the URL standard's IPv4 number parser accepts `text` (decimal, `0x` hex or
/// leading-zero octal).
fn is_ipv4_number(text: &[u8]) -> bool {
    match text {
        [] => false,
        [b'0', b'x' | b'X', hex @ ..] => hex.iter().all(u8::is_ascii_hexdigit),
        [b'0', octal @ ..] => octal.iter().all(|b| (b'0'..=b'7').contains(b)),
        decimal => decimal.iter().all(u8::is_ascii_digit),
    }
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

/// The canonical text of an IPv6 address (without brackets) as the URL standard serialises
/// it: lower-case hex without leading zeros, the first longest run of two or more zero
/// pieces as `::`. `None` if it does not parse; embedded IPv4 (`::ffff:1.2.3.4`) is not
/// accepted, since the parser rewrites it to hex anyway.
fn ipv6(text: &[u8]) -> Option<String> {
    let pieces = ipv6_pieces(text)?;
    let mut run = (0, 0); // (start, length) of the first longest run of zero pieces
    let mut start = 0;
    while start < pieces.len() {
        let len = pieces
            .iter()
            .skip(start)
            .take_while(|&&piece| piece == 0)
            .count();
        if len > run.1 {
            run = (start, len);
        }
        start += len.max(1);
    }
    let mut out = String::with_capacity(39);
    let mut index = 0;
    while index < pieces.len() {
        if run.1 > 1 && index == run.0 {
            out.push_str(if index == 0 { "::" } else { ":" });
            index += run.1;
            continue;
        }
        push_hex(&mut out, pieces.get(index).copied().unwrap_or(0));
        if index + 1 < pieces.len() {
            out.push(':');
        }
        index += 1;
    }
    Some(out)
}

/// The eight pieces of an IPv6 address in hex-and-colons form, with at most one `::`
/// standing for one or more zero pieces (as the URL standard's IPv6 parser reads it).
fn ipv6_pieces(text: &[u8]) -> Option<[u16; 8]> {
    let mut pieces = [0u16; 8];
    let double_colon = text.windows(2).position(|pair| pair == b"::");
    let (head, tail) = match double_colon {
        Some(at) => {
            let (head, tail) = text.split_at(at);
            (head, Some(tail.get(2..)?))
        }
        None => (text, None),
    };
    let mut head_pieces = [0u16; 8];
    let head_count = hex_pieces(head, &mut head_pieces)?;
    match tail {
        None if head_count == 8 => pieces = head_pieces,
        None => return None,
        Some(tail) => {
            let mut tail_pieces = [0u16; 8];
            let tail_count = hex_pieces(tail, &mut tail_pieces)?;
            if head_count + tail_count > 7 {
                return None;
            }
            for (to, from) in pieces.iter_mut().zip(head_pieces.iter().take(head_count)) {
                *to = *from;
            }
            let tail_at = 8 - tail_count;
            for (to, from) in pieces
                .iter_mut()
                .skip(tail_at)
                .zip(tail_pieces.iter().take(tail_count))
            {
                *to = *from;
            }
        }
    }
    Some(pieces)
}

/// Reads colon-separated groups of one to four hex digits into `pieces`; the count, or
/// `None` if a group is empty or too long or there are more than eight. Empty text is
/// zero groups.
fn hex_pieces(text: &[u8], pieces: &mut [u16; 8]) -> Option<usize> {
    if text.is_empty() {
        return Some(0);
    }
    let mut count = 0;
    for group in text.split(|&b| b == b':') {
        if !matches!(group.len(), 1..=4) || !group.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let value = group
            .iter()
            .fold(0u16, |n, &d| (n << 4) | u16::from(hex_value(d)));
        *pieces.get_mut(count)? = value;
        count += 1;
    }
    Some(count)
}

/// The port, if one is written (`host:` has none). Leading zeros are read as the parser
/// reads them (`:0443` is 443); 0 is refused, since nothing listens there.
fn port_number(port: Option<&[u8]>) -> Result<Option<u16>, UrlError> {
    let digits = match port {
        None | Some([]) => return Ok(None),
        Some(digits) => digits,
    };
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(UrlError::BadPort);
    }
    let value = digits.iter().fold(0u32, |n, &d| {
        n.saturating_mul(10).saturating_add(u32::from(d - b'0'))
    });
    match u16::try_from(value) {
        Ok(port) if port != 0 => Ok(Some(port)),
        _ => Err(UrlError::BadPort),
    }
}

/// Appends a path with its dot segments resolved as the URL standard does: `.` and `..`
/// (also written `%2e`, case-insensitively) are removed, `..` removing the segment before
/// it; one that ends the path leaves a trailing `/`. An empty path is `/`.
fn push_path(out: &mut String, path: &[u8]) {
    let path = path.strip_prefix(b"/").unwrap_or(path);
    let mut segments: Vec<&[u8]> = Vec::new();
    let mut rest = path.split(|&b| b == b'/').peekable();
    while let Some(segment) = rest.next() {
        let last = rest.peek().is_none();
        if is_double_dot(segment) {
            segments.pop();
            if last {
                segments.push(b"");
            }
        } else if is_single_dot(segment) {
            if last {
                segments.push(b"");
            }
        } else {
            segments.push(segment);
        }
    }
    for segment in segments {
        out.push('/');
        push_ascii(out, segment);
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

/// A byte a path may hold as it is (RFC 3986 `pchar` and `/`): none of them is
/// percent-encoded by the URL parser, in the standard or in any browser.
fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'%'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'/'
        )
}

/// A byte a query may hold as it is: the path's, and `?` (RFC 3986 `query`). The caller
/// refuses `'` too, which the URL parser encodes in http(s) queries.
fn is_query_byte(b: u8) -> bool {
    is_path_byte(b) || b == b'?'
}

/// Whether every `%` starts an escape of two hex digits (kept as written, as the parser
/// keeps them).
fn escapes_are_whole(text: &[u8]) -> bool {
    let mut rest = text;
    while let Some(at) = rest.iter().position(|&b| b == b'%') {
        match rest.get(at + 1..at + 3) {
            Some([hi, lo]) if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit() => {
                rest = rest.get(at + 3..).unwrap_or_default();
            }
            _ => return false,
        }
    }
    true
}

/// Appends bytes already checked to be ASCII.
fn push_ascii(out: &mut String, bytes: &[u8]) {
    out.extend(bytes.iter().map(|&b| b as char));
}

/// Appends a number in decimal, without the formatting machinery.
fn push_decimal(out: &mut String, mut n: u16) {
    let mut digits = [b'0'; 5];
    let mut start = digits.len();
    for slot in digits.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        start -= 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    push_ascii(out, digits.get(start..).unwrap_or_default());
}

/// Appends a number in lower-case hex without leading zeros.
fn push_hex(out: &mut String, n: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut started = false;
    for shift in [12, 8, 4, 0] {
        let digit = usize::from((n >> shift) & 0xf);
        if digit != 0 || started || shift == 0 {
            started = true;
            out.push(HEX.get(digit).copied().unwrap_or(b'0') as char);
        }
    }
}

/// The value of a hex digit (0 for anything else; callers check first).
fn hex_value(d: u8) -> u8 {
    match d {
        b'0'..=b'9' => d - b'0',
        b'a'..=b'f' => d - b'a' + 10,
        b'A'..=b'F' => d - b'A' + 10,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    //! The canonical forms expected here agree with `new URL(text).href` in Node 20 and
    //! Chromium 156 (checked by hand, and on ~180,000 generated URLs, outside these tests).
    use super::*;

    fn entries(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|t| allow_entry(t).unwrap()).collect()
    }

    #[test]
    fn an_origin_becomes_a_prefix_ending_in_a_slash() {
        assert_eq!(
            allow_entry("https://api.example.com").unwrap(),
            "https://api.example.com/"
        );
        assert_eq!(
            allow_entry("https://api.example.com/").unwrap(),
            "https://api.example.com/"
        );
        assert_eq!(
            allow_entry("https://api.example.com:8443").unwrap(),
            "https://api.example.com:8443/"
        );
        assert_eq!(
            allow_entry("https://api.example.com/v2/").unwrap(),
            "https://api.example.com/v2/"
        );
    }

    #[test]
    fn scheme_and_host_are_lower_cased_and_the_default_port_dropped() {
        assert_eq!(
            allow_entry("HTTPS://API.Example.COM:443/v2/").unwrap(),
            "https://api.example.com/v2/"
        );
        assert_eq!(
            allow_entry("http://LocalHost:80/").unwrap(),
            "http://localhost/"
        );
        assert_eq!(
            endpoint("https://x:0443/token").unwrap(),
            "https://x/token",
            "leading zeros are read as the parser reads them"
        );
        assert_eq!(endpoint("https://x:/token").unwrap(), "https://x/token");
        assert_eq!(
            endpoint("https://x:80/token").unwrap(),
            "https://x:80/token"
        );
        assert_eq!(
            endpoint("http://localhost:443/").unwrap(),
            "http://localhost:443/"
        );
    }

    #[test]
    fn the_path_keeps_its_case_and_escapes() {
        assert_eq!(
            endpoint("https://x/Token/%41%2f").unwrap(),
            "https://x/Token/%41%2f"
        );
        assert_eq!(
            endpoint("https://x/a;b=c/d:e@f/!$&'()*+,~_-.").unwrap(),
            "https://x/a;b=c/d:e@f/!$&'()*+,~_-."
        );
        assert_eq!(endpoint("https://x//a").unwrap(), "https://x//a");
    }

    #[test]
    fn loopback_http_is_accepted() {
        assert_eq!(
            allow_entry("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080/"
        );
        assert_eq!(
            allow_entry("http://127.255.255.254/").unwrap(),
            "http://127.255.255.254/"
        );
        assert_eq!(
            allow_entry("http://[::1]:3000/x/").unwrap(),
            "http://[::1]:3000/x/"
        );
        assert_eq!(
            endpoint("http://localhost:8080/token").unwrap(),
            "http://localhost:8080/token"
        );
    }

    #[test]
    fn http_elsewhere_is_refused() {
        for text in [
            "http://example.com/",
            "http://0.0.0.0/",
            "http://localhost.evil.com/",
            "http://127.0.0.1.nip.io/",
            "http://128.0.0.1/",
            "http://[::2]/",
            "http://localhost./",
            "http://sub.localhost/",
        ] {
            assert_eq!(endpoint(text), Err(UrlError::InsecureHttp), "{text}");
            assert_eq!(allow_entry(text), Err(UrlError::InsecureHttp), "{text}");
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
        for text in [
            "/relative",
            "relative/path",
            "//host/path",
            "https:host/path",
            "https:/host/path",
            "",
            ":",
            "1https://x/",
        ] {
            assert_eq!(endpoint(text), Err(UrlError::NotAbsolute), "{text}");
            assert_eq!(allow_entry(text), Err(UrlError::NotAbsolute), "{text}");
        }
    }

    #[test]
    fn whitespace_and_controls_anywhere_are_refused() {
        for text in [
            " https://x/",
            "https://x/ ",
            "https://x/\n",
            "https://x/a\tb",
            "https://x/a b",
            "https://x/\u{7f}",
            "\0https://x/",
        ] {
            assert_eq!(endpoint(text), Err(UrlError::Whitespace), "{text:?}");
        }
    }

    #[test]
    fn backslashes_are_refused() {
        for text in ["https://x\\evil.com/", "https:\\\\x/", "https://x/a\\b"] {
            assert_eq!(endpoint(text), Err(UrlError::Backslash), "{text}");
        }
    }

    #[test]
    fn userinfo_is_refused() {
        for text in [
            "https://api.example.com@evil.com/",
            "https://user:pw@api.example.com/",
            "https://@api.example.com/",
            "http://localhost@evil.com/",
        ] {
            assert_eq!(endpoint(text), Err(UrlError::Userinfo), "{text}");
            assert_eq!(allow_entry(text), Err(UrlError::Userinfo), "{text}");
        }
        assert_eq!(
            endpoint("https://x/a@b").unwrap(),
            "https://x/a@b",
            "an @ in the path is not userinfo"
        );
    }

    #[test]
    fn a_fragment_is_refused_and_cannot_hide_a_host() {
        for text in [
            "https://evil.com#@api.example.com/",
            "https://x/token#",
            "https://x/token?a#b",
        ] {
            assert_eq!(endpoint(text), Err(UrlError::QueryOrFragment), "{text}");
            assert_eq!(allow_entry(text), Err(UrlError::QueryOrFragment), "{text}");
        }
    }

    #[test]
    fn an_endpoint_keeps_its_query_and_an_entry_has_none() {
        assert_eq!(
            endpoint("https://x/token?tenant=a%20b&x=/?:@").unwrap(),
            "https://x/token?tenant=a%20b&x=/?:@"
        );
        assert_eq!(endpoint("https://x?q").unwrap(), "https://x/?q");
        assert_eq!(endpoint("https://x/?").unwrap(), "https://x/?");
        assert_eq!(allow_entry("https://x/?q"), Err(UrlError::QueryOrFragment));
        assert_eq!(allow_entry("https://x/?"), Err(UrlError::QueryOrFragment));
    }

    #[test]
    fn query_characters_the_parser_would_encode_are_refused() {
        for text in [
            "https://x/?a=\"b\"",
            "https://x/?a<b>",
            "https://x/?a='b'",
            "https://x/?a=\u{e9}",
            "https://x/?a=%",
            "https://x/?a=%2",
            "https://x/?a=%zz",
            "https://x/?a[]=1",
            "https://x/?a={b}",
            "https://x/?a=`b`",
            "https://x/?a|b^c",
        ] {
            assert_eq!(endpoint(text), Err(UrlError::BadQuery), "{text}");
        }
    }

    #[test]
    fn path_characters_the_parser_would_encode_are_refused() {
        for text in [
            "https://x/a\"b",
            "https://x/<a>",
            "https://x/a`b",
            "https://x/{a}",
            "https://x/caf\u{e9}/",
            "https://x/a^b",
            "https://x/a|b",
            "https://x/[a]",
            "https://x/%",
            "https://x/%4",
            "https://x/%zz/",
        ] {
            assert_eq!(endpoint(text), Err(UrlError::BadPath), "{text}");
        }
    }

    #[test]
    fn dot_segments_are_resolved_as_the_url_parser_does() {
        for (text, canonical) in [
            ("https://x/v2/../v1/", "https://x/v1/"),
            ("https://x/v2/%2e%2e/v1/", "https://x/v1/"),
            ("https://x/v2/%2E%2E/v1/", "https://x/v1/"),
            ("https://x/v2/.%2E/v1/", "https://x/v1/"),
            ("https://x/v2/%2e./v1/", "https://x/v1/"),
            ("https://x/a/./b/", "https://x/a/b/"),
            ("https://x/a/%2e/b/", "https://x/a/b/"),
            ("https://x/a/b/..", "https://x/a/"),
            ("https://x/a/b/.", "https://x/a/b/"),
            ("https://x/../../a/", "https://x/a/"),
            ("https://x/..", "https://x/"),
            ("https://x/a/...", "https://x/a/..."),
            ("https://x/a/%2e%2e%2e/", "https://x/a/%2e%2e%2e/"),
            ("https://x/a/..%2f/", "https://x/a/..%2f/"),
        ] {
            assert_eq!(endpoint(text).unwrap(), canonical, "{text}");
        }
        assert_eq!(allow_entry("https://x/v2/../v1/").unwrap(), "https://x/v1/");
        assert_eq!(
            endpoint("https://x/v2/../token?a=..").unwrap(),
            "https://x/token?a=..",
            "a query is not a path"
        );
    }

    #[test]
    fn an_entry_path_must_end_in_a_slash() {
        assert_eq!(
            allow_entry("https://x/v2"),
            Err(UrlError::NotOriginOrPrefix)
        );
        assert_eq!(
            allow_entry("https://x/v2/.."),
            Ok("https://x/".into()),
            "resolves to the origin"
        );
        assert_eq!(endpoint("https://x/v2").unwrap(), "https://x/v2");
    }

    #[test]
    fn hosts_outside_the_ascii_subset_are_refused() {
        for text in [
            "https:///x",
            "https://:443/",
            "https://b\u{fc}cher.de/",
            "https://ex%61mple.com/",
            "https://a_b.com/",
            "https://a..b/",
            "https://.a/",
            "https://./",
            "https://x!/",
            "https://[::1/",
            "https://[::1]x/",
            "https://[fe80::1%25eth0]/",
        ] {
            assert_eq!(endpoint(text), Err(UrlError::BadHost), "{text}");
        }
        assert_eq!(
            endpoint("https://xn--bcher-kva.de/").unwrap(),
            "https://xn--bcher-kva.de/"
        );
        assert_eq!(
            endpoint("https://example.com./").unwrap(),
            "https://example.com./",
            "a trailing dot is kept, as the parser keeps it"
        );
        assert_eq!(endpoint("https://x.0xg/").unwrap(), "https://x.0xg/");
    }

    #[test]
    fn ipv4_is_accepted_only_in_canonical_dotted_decimal() {
        assert_eq!(
            endpoint("https://10.0.0.255/").unwrap(),
            "https://10.0.0.255/"
        );
        for text in [
            "http://127.1/",
            "http://0x7f.0.0.1/",
            "http://0177.0.0.1/",
            "http://127.0.0.01/",
            "http://2130706433/",
            "http://127.0.0.1./",
            "http://127.0.0.256/",
            "http://127.0.0.1.2/",
            "https://example.123/",
            "https://example.0x1f/",
            "https://x.0x/",
        ] {
            assert_eq!(endpoint(text), Err(UrlError::BadHost), "{text}");
        }
    }

    #[test]
    fn ipv6_is_accepted_only_as_the_parser_writes_it() {
        for (text, canonical) in [
            ("http://[::1]/", "http://[::1]/"),
            ("https://[2001:db8::1]/", "https://[2001:db8::1]/"),
            ("https://[2001:DB8::1]/", "https://[2001:db8::1]/"),
            ("https://[::]/", "https://[::]/"),
            ("https://[1:0:0:2::3]/", "https://[1:0:0:2::3]/"),
            ("https://[1::2:0:0:3:4]/", "https://[1::2:0:0:3:4]/"),
            ("https://[1:2:3:4:5:6:7:8]/", "https://[1:2:3:4:5:6:7:8]/"),
            ("https://[1:0:2:3:4:5:6:7]/", "https://[1:0:2:3:4:5:6:7]/"),
        ] {
            assert_eq!(endpoint(text).unwrap(), canonical, "{text}");
        }
        for text in [
            "http://[0:0:0:0:0:0:0:1]/",
            "http://[::0001]/",
            "https://[1:0:0:2:0:0:0:3]/",
            "https://[1:2:3:4:5:6:7::]/",
            "https://[1::2:3:4:5:6:7:8]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[1:2:3:4:5:6:7]/",
            "https://[1:2:3:4:5:6:7:8:9]/",
            "https://[1::2::3]/",
            "https://[:::]/",
            "https://[12345::]/",
            "https://[]/",
            "https://[g::]/",
        ] {
            assert_eq!(endpoint(text), Err(UrlError::BadHost), "{text}");
        }
    }

    #[test]
    fn ports_must_be_1_to_65535() {
        assert_eq!(endpoint("https://x:65535/").unwrap(), "https://x:65535/");
        for text in [
            "https://x:0/",
            "https://x:65536/",
            "https://x:99999999999999999999999/",
            "https://x:8a/",
            "https://x:-1/",
            "https://x:+1/",
            "https://x:1:2/",
            "https://x:\u{661}/",
        ] {
            assert_ne!(endpoint(text).err(), None, "{text}");
        }
        assert_eq!(endpoint("https://x:0/"), Err(UrlError::BadPort));
        assert_eq!(endpoint("https://x:65536/"), Err(UrlError::BadPort));
        assert_eq!(endpoint("https://x:8a/"), Err(UrlError::BadPort));
        assert_eq!(endpoint("https://[::1]:/x"), Ok("https://[::1]/x".into()));
    }

    #[test]
    fn an_entry_matches_everything_under_its_prefix() {
        let list = entries(&["https://api.example.com", "https://x/v2/"]);
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
        let list = entries(&["https://api.example.com"]);
        assert!(!is_allowed("https://api.example.com.evil.com/", &list));
        assert!(!is_allowed("https://api.example.community/", &list));
    }

    #[test]
    fn a_port_must_match_exactly() {
        let list = entries(&["http://localhost:8080"]);
        assert!(is_allowed("http://localhost:8080/api", &list));
        assert!(!is_allowed("http://localhost:80801/", &list));
        assert!(!is_allowed("http://localhost/", &list));
        let list = entries(&["https://x"]);
        assert!(!is_allowed("https://x:8443/", &list));
        assert!(!is_allowed("http://x/", &list), "the scheme is part of it");
    }

    #[test]
    fn an_href_with_userinfo_never_matches() {
        let list = entries(&["https://api.example.com"]);
        assert!(!is_allowed("https://api.example.com@evil.com/", &list));
        assert!(!is_allowed("https://user@api.example.com/", &list));
    }

    #[test]
    fn a_query_or_fragment_cannot_fake_a_prefix() {
        let list = entries(&["https://api.example.com"]);
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
        let origin = entries(&["https://x"]);
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

    #[test]
    fn every_error_has_a_message() {
        for e in [
            UrlError::Whitespace,
            UrlError::Backslash,
            UrlError::NotAbsolute,
            UrlError::Scheme,
            UrlError::InsecureHttp,
            UrlError::Userinfo,
            UrlError::QueryOrFragment,
            UrlError::BadHost,
            UrlError::BadPort,
            UrlError::BadPath,
            UrlError::BadQuery,
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

        /// URL-shaped text: mostly near-valid, with the parts the parser rewrites.
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
                Just("127.0.0.1".to_string()),
                Just("[::1]".to_string()),
                Just("[0:0::1]".to_string()),
                "[0-9a-fA-F:.\\[\\]]{0,12}",
                "[a-zA-Z0-9.@%-]{0,12}",
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
                Just(".%2e".to_string()),
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
            fn canonical_forms_are_fixed_points(text in url_text(), href in url_text()) {
                if let Ok(entry) = allow_entry(&text) {
                    prop_assert_eq!(allow_entry(&entry), Ok(entry.clone()));
                    prop_assert_eq!(endpoint(&entry), Ok(entry.clone()));
                    prop_assert!(entry.ends_with('/'));
                    prop_assert!(is_allowed(&entry, std::slice::from_ref(&entry)));
                    let _ = is_allowed(&href, &[entry]);
                }
                if let Ok(url) = endpoint(&text) {
                    prop_assert_eq!(endpoint(&url), Ok(url.clone()));
                    let origin = origin_of(&url);
                    prop_assert!(origin.is_some(), "{}", url);
                    let htu = without_query_and_fragment(&url);
                    prop_assert!(htu.len() >= origin.map_or(0, str::len));
                }
            }

            #[test]
            fn canonical_paths_have_no_dot_segments(text in url_text()) {
                if let Ok(url) = endpoint(&text) {
                    let htu = without_query_and_fragment(&url);
                    let path = htu.get(origin_of(&url).map_or(0, str::len)..).unwrap_or("");
                    prop_assert!(path.starts_with('/'), "{}", url);
                    for segment in path.split('/') {
                        prop_assert!(!is_single_dot(segment.as_bytes()) && !is_double_dot(segment.as_bytes()), "{}", url);
                    }
                }
            }
        }
    }
}
