//! GitHub Apps made through the manifest flow: the page a browser posts the manifest to
//! (`/settings/apps/new`, or an organisation's), which answers with a one-time code, and
//! `POST /app-manifests/{code}/conversions`, which trades it (once, within an hour) for the
//! App's id and secrets. Also the full shapes of the `/user` answers, for Prism.

use super::{Model, Reply, error, keys, reply, user_json};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;

/// An App created through the manifest flow.
#[derive(Debug, Clone)]
pub struct ManifestApp {
    pub id: u64,
    pub slug: String,
    /// The organisation, or the person who created it.
    pub owner: String,
    pub manifest: Value,
    pub code: String,
    pub created_at: DateTime<Utc>,
    /// Whether the code was traded for the secrets (it works once).
    pub converted: bool,
    pub client_secret: String,
    pub webhook_secret: String,
}

/// The browser posts the manifest form (`manifest=<json>`) to GitHub's new-App page, as the
/// person it is signed in as; GitHub sends it back to the manifest's `redirect_url`.
pub fn new_app(
    m: &mut Model,
    org: Option<&str>,
    q: &HashMap<String, String>,
    body: &Value,
) -> Reply {
    let Some(person) = m.oauth_browser.clone() else {
        return error(401, "nobody is signed in to GitHub in this browser");
    };
    let form = body.as_str().unwrap_or("");
    let Some(text) = url::form_urlencoded::parse(form.as_bytes())
        .find(|(k, _)| k == "manifest")
        .map(|(_, v)| v.into_owned())
    else {
        return error(422, "the form has no manifest");
    };
    let Ok(manifest) = serde_json::from_str::<Value>(&text) else {
        return error(422, "the manifest is not JSON");
    };
    let (Some(name), Some(_), Some(redirect)) = (
        manifest["name"].as_str(),
        manifest["url"].as_str(),
        manifest["redirect_url"].as_str(),
    ) else {
        return error(422, "the manifest needs name, url and redirect_url");
    };
    if m.manifest_apps.iter().any(|a| a.manifest["name"] == name) {
        return error(422, "Name is already in use");
    }
    m.next_id += 1;
    let id = m.next_id;
    let code = format!("mcode{id}");
    let redirect = redirect.to_string();
    m.manifest_apps.push(ManifestApp {
        id,
        slug: name.to_ascii_lowercase().replace(' ', "-"),
        owner: org.map_or(person, str::to_string),
        manifest,
        code: code.clone(),
        created_at: m.clock.now(),
        converted: false,
        client_secret: format!("fake-client-secret-{id}"),
        webhook_secret: format!("fake-webhook-secret-{id}"),
    });
    let sep = if redirect.contains('?') { '&' } else { '?' };
    let state = q
        .get("state")
        .map(|s| format!("&state={}", super::encode_component(s)))
        .unwrap_or_default();
    Reply {
        status: 302,
        body: Value::Null,
        headers: vec![(
            "location".into(),
            format!("{redirect}{sep}code={code}{state}"),
        )],
    }
}

/// `POST /app-manifests/{code}/conversions`: the App with its secrets, once per code.
pub fn convert(m: &mut Model, code: &str) -> Reply {
    let now = m.clock.now();
    let Some(app) = m
        .manifest_apps
        .iter_mut()
        .find(|a| a.code == code && !a.converted && now - a.created_at <= TimeDelta::hours(1))
    else {
        return error(404, "Not Found");
    };
    app.converted = true;
    let mut answer = integration_json(app);
    answer["client_id"] = json!(format!("Iv1.fake{}", app.id));
    answer["client_secret"] = json!(app.client_secret);
    answer["webhook_secret"] = json!(app.webhook_secret);
    answer["pem"] = json!(keys::test_key().private_pem);
    reply(201, answer)
}

/// An `integration`, with every field GitHub's description requires.
fn integration_json(app: &ManifestApp) -> Value {
    let at = app
        .created_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let permissions = app.manifest["default_permissions"].clone();
    json!({
        "id": app.id, "slug": app.slug, "node_id": "A_fake", "client_id": format!("Iv1.fake{}", app.id),
        "owner": user_json(&app.owner), "name": app.manifest["name"],
        "description": app.manifest["description"].as_str(),
        "external_url": app.manifest["url"], "html_url": format!("https://github.com/apps/{}", app.slug),
        "created_at": at, "updated_at": at,
        "permissions": if permissions.is_object() { permissions } else { json!({}) },
        "events": app.manifest["default_events"].as_array().cloned().unwrap_or_default(),
    })
}

/// `GET /user` for a signed-in person: a `private-user`.
pub fn private_user_json(login: &str) -> Value {
    let mut v = user_json(login);
    for key in [
        "bio", "blog", "company", "email", "hireable", "location", "name",
    ] {
        v[key] = Value::Null;
    }
    for key in [
        "followers",
        "following",
        "public_gists",
        "public_repos",
        "collaborators",
        "disk_usage",
        "owned_private_repos",
        "private_gists",
        "total_private_repos",
    ] {
        v[key] = json!(0);
    }
    v["blog"] = json!("");
    v["two_factor_authentication"] = json!(true);
    v["created_at"] = json!("2020-01-01T00:00:00Z");
    v["updated_at"] = json!("2026-01-01T00:00:00Z");
    v["user_view_type"] = json!("private");
    v
}

/// One entry of `GET /user/installations`: an `installation` of the App.
pub fn installation_json(id: u64, account: &str) -> Value {
    json!({
        "id": id, "app_id": super::APP_ID, "app_slug": "patchwright", "target_id": 1,
        "target_type": "Organization", "single_file_name": null, "repository_selection": "selected",
        "access_tokens_url": format!("https://api.github.com/app/installations/{id}/access_tokens"),
        "html_url": format!("https://github.com/organizations/{account}/settings/installations/{id}"),
        "repositories_url": "https://api.github.com/installation/repositories",
        "events": ["push", "pull_request", "issue_comment"], "account": user_json(account),
        "permissions": { "contents": "write", "pull_requests": "write", "issues": "write", "checks": "write", "metadata": "read" },
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "suspended_by": null, "suspended_at": null,
    })
}
