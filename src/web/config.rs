//! The `[web]` table: sign-in with GitHub and the dashboard's sessions.

use super::session::SessionKey;
use crate::infra::secret::Secret;
use serde::Deserialize;

/// Where the OAuth client secret comes from when the table does not hold it.
pub const CLIENT_SECRET_ENV: &str = "PATCHWRIGHT_WEB_CLIENT_SECRET";
/// Where the session key comes from when the table does not hold it.
pub const SESSION_KEY_ENV: &str = "PATCHWRIGHT_WEB_SESSION_KEY";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RawWeb {
    client_id: String,
    client_secret: Option<String>,
    session_key: Option<String>,
    public_url: String,
    #[serde(default = "default_github_url")]
    github_url: String,
    #[serde(default)]
    admins: Vec<String>,
    #[serde(default = "default_session_hours")]
    session_hours: u32,
    setup_output: Option<std::path::PathBuf>,
    setup_organisation: Option<String>,
}

fn default_github_url() -> String {
    "https://github.com".to_string()
}

fn default_session_hours() -> u32 {
    8
}

/// The validated `[web]` table.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The GitHub App's OAuth client id.
    pub client_id: String,
    pub client_secret: Secret,
    pub session_key: SessionKey,
    /// Where people reach the dashboard (`https://patchwright.example.com`): the OAuth
    /// callback is `<public-url>/oauth/callback`.
    pub public_url: String,
    /// Where people sign in: `https://github.com`, or a GitHub Enterprise Server's root.
    pub github_url: String,
    /// Logins who see every repository (compared without case, without `@`).
    pub admins: Vec<String>,
    pub session_hours: u32,
    /// `setup-output`: where `/setup` (admins only here) writes a new App's id, key and
    /// webhook secret; `/setup` is off without it.
    pub setup_output: Option<std::path::PathBuf>,
    /// `setup-organisation`: the organisation `/setup` creates the App under (else the
    /// admin's own account).
    pub setup_organisation: Option<String>,
}

impl WebConfig {
    /// Reads the table; secrets may instead come from [`CLIENT_SECRET_ENV`] and
    /// [`SESSION_KEY_ENV`] (`env` looks them up). Returns a message naming the key on error.
    pub fn from_toml(
        value: toml::Value,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<WebConfig, String> {
        let raw: RawWeb = value
            .try_into()
            .map_err(|e: toml::de::Error| e.message().trim_end().to_string())?;
        let secret = |value: Option<String>, var: &str, key: &str| {
            value
                .or_else(|| env(var))
                .filter(|s| !s.is_empty())
                .map(Secret::new)
                .ok_or_else(|| format!("`{key}` is missing: set it here or in {var}"))
        };
        let client_secret = secret(raw.client_secret, CLIENT_SECRET_ENV, "client-secret")?;
        let session_key = SessionKey::new(secret(raw.session_key, SESSION_KEY_ENV, "session-key")?)
            .map_err(|e| format!("session-key: {e}"))?;
        for (key, url) in [
            ("public-url", &raw.public_url),
            ("github-url", &raw.github_url),
        ] {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(format!("{key}: `{url}` is not an http(s) URL"));
            }
        }
        if raw.client_id.trim().is_empty() {
            return Err("client-id: empty; copy the App's client id from its settings page".into());
        }
        if !(1..=720).contains(&raw.session_hours) {
            return Err(format!(
                "session-hours: {} is out of range (1 to 720)",
                raw.session_hours
            ));
        }
        Ok(WebConfig {
            client_id: raw.client_id,
            client_secret,
            session_key,
            public_url: raw.public_url.trim_end_matches('/').to_string(),
            github_url: raw.github_url.trim_end_matches('/').to_string(),
            admins: raw
                .admins
                .iter()
                .map(|a| a.trim_start_matches('@').to_ascii_lowercase())
                .collect(),
            session_hours: raw.session_hours,
            setup_output: raw.setup_output,
            setup_organisation: raw.setup_organisation.filter(|o| !o.trim().is_empty()),
        })
    }

    pub fn is_admin(&self, login: &str) -> bool {
        let login = login.to_ascii_lowercase();
        self.admins.contains(&login)
    }

    pub fn redirect_uri(&self) -> String {
        format!("{}/oauth/callback", self.public_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Value {
        toml::from_str(text).unwrap()
    }

    const BASE: &str = "client-id = \"Iv1.x\"\npublic-url = \"https://dash.example.com/\"\n";

    #[test]
    fn secrets_come_from_the_table_or_the_environment_and_are_checked() {
        let missing = WebConfig::from_toml(table(BASE), |_| None).unwrap_err();
        assert!(
            missing.contains("client-secret") && missing.contains(CLIENT_SECRET_ENV),
            "{missing}"
        );
        let env = |var: &str| match var {
            CLIENT_SECRET_ENV => Some("s3cret".to_string()),
            SESSION_KEY_ENV => Some("short".to_string()),
            _ => None,
        };
        let short = WebConfig::from_toml(table(BASE), env).unwrap_err();
        assert!(
            short.starts_with("session-key:") && short.contains("32 bytes"),
            "{short}"
        );
        let text = format!(
            "{BASE}session-key = \"{}\"\nadmins = [\"@OctoCat\"]\n",
            "k".repeat(32)
        );
        let c = WebConfig::from_toml(table(&text), env).unwrap();
        assert_eq!(c.redirect_uri(), "https://dash.example.com/oauth/callback");
        assert!(c.is_admin("octocat") && !c.is_admin("mallory"));
        assert_eq!(c.github_url, "https://github.com");
        assert!(
            !format!("{c:?}").contains("s3cret"),
            "secrets stay out of Debug"
        );
        let unknown = WebConfig::from_toml(table(&format!("{BASE}colour = 1\n")), env).unwrap_err();
        assert!(unknown.contains("colour"), "{unknown}");
    }
}
