//! The App's key pair, made fresh for each test binary (no key is ever committed), and the
//! JWT check GitHub does on `POST /app/installations/{id}/access_tokens`.

use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use std::sync::OnceLock;

pub struct TestKey {
    pub private_pem: String,
    pub public_pem: String,
}

/// One key per test binary: RSA key generation is slow in a debug build.
pub fn test_key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut rng = rsa::rand_core::OsRng;
        let private = rsa::RsaPrivateKey::new(&mut rng, 2048).expect("generate an RSA key");
        TestKey {
            private_pem: private
                .to_pkcs1_pem(LineEnding::LF)
                .expect("encode the private key")
                .to_string(),
            public_pem: private
                .to_public_key()
                .to_public_key_pem(LineEnding::LF)
                .expect("encode the public key"),
        }
    })
}

#[derive(serde::Deserialize)]
struct Claims {
    iss: serde_json::Value,
    exp: i64,
}

/// How far GitHub lets an App's clock and its own disagree.
const LEEWAY_SECS: i64 = 60;

/// Checks a `Bearer` JWT the way GitHub does: RS256 signature by the App's key, not expired
/// at `now` (the fake's clock, not the wall's), issued by the App. Returns why not.
pub fn verify_app_jwt(
    header: Option<&str>,
    public_pem: &str,
    app_id: u64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), String> {
    let token = header
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or("A JSON web token could not be decoded: no Bearer token")?;
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(public_pem.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    // Expiry is judged below by the fake's clock.
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Claims>(token, &key, &validation)
        .map_err(|e| format!("A JSON web token could not be decoded: {e}"))?;
    if data.claims.exp + LEEWAY_SECS <= now.timestamp() {
        return Err("'Expiration time' claim ('exp') is too far in the past".to_string());
    }
    let iss = match &data.claims.iss {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    };
    if iss == Some(app_id) {
        Ok(())
    } else {
        Err(format!(
            "'Issuer' claim ('iss') must be the App's id {app_id}"
        ))
    }
}
