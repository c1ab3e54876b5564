//! `X-Hub-Signature-256`: HMAC-SHA256 of the raw body under the webhook secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing X-Hub-Signature-256 header")]
    Missing,
    #[error("X-Hub-Signature-256 is not `sha256=` and 64 hex digits")]
    Malformed,
    #[error("X-Hub-Signature-256 does not match the body")]
    Mismatch,
}

/// The header value GitHub sends for `body`: `sha256=<hex>`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks `header` against `body`. The comparison is constant-time (`Mac::verify_slice`), so
/// the time taken says nothing about how much of a forged signature was right.
pub fn verify(secret: &[u8], body: &[u8], header: Option<&[u8]>) -> Result<(), SignatureError> {
    let mut verifier = Verifier::new(secret, header)?;
    verifier.update(body);
    verifier.finish()
}

/// Checks a signature over a body that arrives in pieces: the header is read first (a
/// missing or malformed one is refused before a single body byte is read), each chunk is
/// hashed as it arrives, and [`Verifier::finish`] compares in constant time.
pub struct Verifier {
    mac: HmacSha256,
    expected: [u8; 32],
}

impl Verifier {
    pub fn new(secret: &[u8], header: Option<&[u8]>) -> Result<Verifier, SignatureError> {
        let header = header.ok_or(SignatureError::Missing)?;
        let hex_digits = header
            .strip_prefix(b"sha256=")
            .ok_or(SignatureError::Malformed)?;
        let mut expected = [0u8; 32];
        hex::decode_to_slice(hex_digits, &mut expected).map_err(|_| SignatureError::Malformed)?;
        let mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
        Ok(Verifier { mac, expected })
    }

    pub fn update(&mut self, chunk: &[u8]) {
        self.mac.update(chunk);
    }

    pub fn finish(self) -> Result<(), SignatureError> {
        self.mac
            .verify_slice(&self.expected)
            .map_err(|_| SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_githubs_documented_example() {
        // From GitHub's "Validating webhook deliveries" page.
        let sig = sign(b"It's a Secret to Everybody", b"Hello, World!");
        assert_eq!(
            sig,
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
        assert_eq!(
            verify(
                b"It's a Secret to Everybody",
                b"Hello, World!",
                Some(sig.as_bytes())
            ),
            Ok(())
        );
    }

    #[test]
    fn rejects_missing_malformed_and_wrong_signatures() {
        let body = b"{}";
        let good = sign(b"k", body);
        assert_eq!(verify(b"k", body, None), Err(SignatureError::Missing));
        assert_eq!(
            verify(b"k", body, Some(b"sha1=abc")),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(b"k", body, Some(&good.as_bytes()[..20])),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(b"other", body, Some(good.as_bytes())),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"k", b"{ }", Some(good.as_bytes())),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_body_hashed_in_pieces_verifies_like_the_whole() {
        let body = b"{\"zen\": \"Keep it logically awesome.\"}";
        let sig = sign(b"k", body);
        let mut v = Verifier::new(b"k", Some(sig.as_bytes())).unwrap();
        for chunk in body.chunks(5) {
            v.update(chunk);
        }
        assert_eq!(v.finish(), Ok(()));
        let mut v = Verifier::new(b"k", Some(sig.as_bytes())).unwrap();
        v.update(&body[..10]);
        assert_eq!(v.finish(), Err(SignatureError::Mismatch));
    }
}
