//! Session cookies: a random token, signed (HMAC-SHA256) with the session key, HttpOnly,
//! Secure, SameSite=Lax, with an expiry. The token's SHA-256 finds the stored session.

use crate::infra::secret::Secret;
use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The session cookie.
pub const SESSION_COOKIE: &str = "pw_session";
/// The OAuth `state` between `/login` and `/oauth/callback`.
pub const STATE_COOKIE: &str = "pw_oauth_state";
/// The shortest session key accepted: 256 bits, as HMAC-SHA256's own strength.
pub const MIN_KEY_BYTES: usize = 32;

/// The key that signs cookies.
#[derive(Clone)]
pub struct SessionKey(Secret);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey([redacted])")
    }
}

impl SessionKey {
    /// A key of at least [`MIN_KEY_BYTES`] bytes.
    pub fn new(secret: Secret) -> Result<SessionKey, String> {
        if secret.expose().len() < MIN_KEY_BYTES {
            return Err(format!(
                "the session key must be at least {MIN_KEY_BYTES} bytes (for example `openssl rand -hex 32`)"
            ));
        }
        Ok(SessionKey(secret))
    }

    fn mac(&self, value: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(self.0.expose().as_bytes())
            .expect("HMAC accepts keys of any length");
        mac.update(value.as_bytes());
        mac
    }

    /// `value.signature`.
    pub fn sign(&self, value: &str) -> String {
        let tag = self.mac(value).finalize().into_bytes();
        format!("{value}.{}", hex::encode(tag))
    }

    /// The value of a signed `value.signature`, if the signature is this key's (checked in
    /// constant time).
    pub fn verify<'a>(&self, signed: &'a str) -> Option<&'a str> {
        let (value, tag) = signed.rsplit_once('.')?;
        let tag = hex::decode(tag).ok()?;
        self.mac(value).verify_slice(&tag).ok()?;
        Some(value)
    }
}

/// A fresh random token (244 bits from the OS's generator, through two v4 UUIDs).
pub fn new_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// What the store keeps of a token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A `Set-Cookie` value with every protection the dashboard's cookies carry.
pub fn set_cookie(name: &str, value: &str, max_age_seconds: i64) -> String {
    format!("{name}={value}; Path=/; Max-Age={max_age_seconds}; HttpOnly; Secure; SameSite=Lax")
}

/// A `Set-Cookie` value that removes the cookie.
pub fn clear_cookie(name: &str) -> String {
    set_cookie(name, "", 0)
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Compares two tokens in constant time (CSRF tokens from forms).
pub fn same_token(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SessionKey {
        SessionKey::new(Secret::new("k".repeat(32))).unwrap()
    }

    #[test]
    fn a_signed_value_verifies_and_a_changed_one_does_not() {
        let signed = key().sign("abc");
        assert_eq!(key().verify(&signed), Some("abc"));
        assert_eq!(key().verify(&signed.replacen("abc", "abd", 1)), None);
        let other = SessionKey::new(Secret::new("x".repeat(32))).unwrap();
        assert_eq!(other.verify(&signed), None);
        assert_eq!(key().verify("abc"), None);
        assert_eq!(key().verify("abc.zz"), None);
    }

    #[test]
    fn short_keys_are_refused_and_cookies_are_protected() {
        assert!(SessionKey::new(Secret::new("short")).is_err());
        let c = set_cookie("pw_session", "v", 60);
        for part in ["HttpOnly", "Secure", "SameSite=Lax", "Max-Age=60", "Path=/"] {
            assert!(c.contains(part), "{c}");
        }
        let mut headers = HeaderMap::new();
        headers.insert("cookie", "a=1; pw_session=tok.sig; b=2".parse().unwrap());
        assert_eq!(cookie(&headers, "pw_session"), Some("tok.sig"));
        assert_eq!(cookie(&headers, "c"), None);
        assert!(same_token("abc", "abc") && !same_token("abc", "abd"));
        assert_ne!(new_token(), new_token());
        assert_eq!(new_token().len(), 64);
    }
}
