//! The browser session cookie: the refresh token in an `HttpOnly; Secure; SameSite=Strict` cookie scoped to
//! `/v1/auth`, so page scripts never see it and it never travels anywhere else.
//!
//! The cookie's three attributes are fixed and its value is a base64url token, so the header is written here rather
//! than through a cookie crate: there is nothing to escape or choose.

use http::{HeaderMap, HeaderValue, header};

/// The cookie's name. `__Secure-` makes browsers refuse it unless it is `Secure` and set over HTTPS.
pub const REFRESH_COOKIE: &str = "__Secure-medvault_refresh";
/// The header carrying the session's CSRF token on cookie requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// `Set-Cookie` for `token`, living `max_age` seconds.
pub fn set_refresh(token: &str, max_age: u64) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{REFRESH_COOKIE}={token}; Path=/v1/auth; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict"
    ))
    .ok()
}

/// `Set-Cookie` that removes the cookie.
pub fn clear_refresh() -> HeaderValue {
    HeaderValue::from_static("__Secure-medvault_refresh=; Path=/v1/auth; Max-Age=0; HttpOnly; Secure; SameSite=Strict")
}

/// The refresh token from the request's `Cookie` headers, if present.
pub fn refresh_from(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == REFRESH_COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// The CSRF header's value.
pub fn csrf_from(headers: &HeaderMap) -> Option<String> {
    headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_http_only_secure_strict_and_scoped() {
        let value = set_refresh("mvr_abc", 43200).unwrap();
        let text = value.to_str().unwrap();
        for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/v1/auth", "Max-Age=43200"] {
            assert!(text.contains(attribute), "{text}");
        }
    }

    #[test]
    fn the_token_is_found_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("theme=dark; __Secure-medvault_refresh=mvr_x; a=b"));
        assert_eq!(refresh_from(&headers).as_deref(), Some("mvr_x"));
        assert_eq!(refresh_from(&HeaderMap::new()), None);
    }
}
