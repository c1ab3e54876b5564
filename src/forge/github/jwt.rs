//! The App's JSON Web Token: what it sends to trade for installation tokens.

use crate::forge::hosted::ForgeError;
use crate::infra::secret::Secret;
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

/// GitHub refuses a JWT that lives longer than ten minutes; nine leave room for clock drift.
const LIFETIME: TimeDelta = TimeDelta::minutes(9);
/// Issued a minute in the past, so a GitHub clock slightly behind ours still accepts it.
const BACKDATE: TimeDelta = TimeDelta::seconds(60);

/// The App's signing key (RS256), parsed once.
#[derive(Clone)]
pub(crate) struct AppKey {
    app_id: u64,
    key: EncodingKey,
}

impl AppKey {
    pub fn from_pem(app_id: u64, pem: &Secret) -> Result<AppKey, ForgeError> {
        let key = EncodingKey::from_rsa_pem(pem.expose().as_bytes()).map_err(|e| {
            // jsonwebtoken's message names the PEM problem, never the key itself.
            ForgeError::Permanent(format!(
                "the GitHub App private key is not an RSA key in PEM form ({}): use the .pem file GitHub generated for the App",
                e.to_string().lines().next().unwrap_or("")
            ))
        })?;
        Ok(AppKey { app_id, key })
    }

    /// A JWT valid from a minute before `now` to nine minutes after it.
    pub fn jwt(&self, now: DateTime<Utc>) -> Result<Secret, ForgeError> {
        #[derive(serde::Serialize)]
        struct Claims {
            iss: String,
            iat: i64,
            exp: i64,
        }
        let claims = Claims {
            iss: self.app_id.to_string(),
            iat: (now - BACKDATE).timestamp(),
            exp: (now + LIFETIME).timestamp(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key)
            .map(Secret::new)
            .map_err(|e| {
                ForgeError::Permanent(format!(
                    "cannot sign the App's JWT with its private key ({}): use the .pem file GitHub generated for the App",
                    e.to_string().lines().next().unwrap_or("")
                ))
            })
    }
}
