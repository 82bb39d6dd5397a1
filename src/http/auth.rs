//! Applying a provider's credentials to a request, and OAuth 2.0 tokens
//! (docs/design/10-rest-providers.md, "Token refresh once on 401" and
//! "Secrets, and the rotated refresh token").
//!
//! The two grants a server-side integration runs are written here, not
//! taken from the `oauth2` crate: client credentials (RFC 6749 §4.4) and
//! refresh (§6), each one form POST and a JSON answer (§5.1, §5.2). What
//! tether must add is the point: an access token is cached until shortly
//! before it expires and dropped on a 401 so the next request fetches a
//! fresh one (the exchange repeats a request once, never more); a
//! refresh token the provider *rotates* is written to the operator's file
//! before the new access token is used; `invalid_grant` says a person must
//! authorise tether again.

use super::client::{Client, Method, Request};
use super::secret::{Redactor, Secret};
use super::{COMPONENT, Clock, json_at};
use base64::Engine as _;
use percent_encoding::utf8_percent_encode;
use serde_json::Value as Json;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Where an API key goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyCarrier {
    Header,
    Query,
}

/// A provider's credentials, secrets resolved.
#[derive(Debug)]
pub enum Credentials {
    None,
    ApiKey {
        carrier: KeyCarrier,
        name: String,
        key: Secret,
    },
    Basic {
        user: String,
        password: Secret,
    },
    Bearer(Secret),
    OAuth2(OAuth2),
}

/// An OAuth 2.0 client of one token endpoint.
#[derive(Debug)]
pub struct OAuth2 {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub grant: Grant,
    token: Option<Token>,
    /// Tokens fetched, for the provider's stats.
    pub fetches: u64,
    /// The provider rotated the refresh token and there is no file to keep
    /// the new one in: this process goes on with it, the next may need a
    /// person to authorise tether again.
    pub rotated_unsaved: bool,
}

#[derive(Debug)]
pub enum Grant {
    ClientCredentials {
        scope: Option<String>,
    },
    RefreshToken {
        token: Secret,
        /// The file the token came from (`$NAME_FILE`): a rotated token is
        /// written back to it.
        file: Option<PathBuf>,
    },
}

#[derive(Debug)]
struct Token {
    access: Secret,
    /// Used until then (the server's `expires_in` less a minute); `None`:
    /// until a 401 (Salesforce sends no `expires_in`).
    good_until: Option<Instant>,
}

/// How long before its stated expiry a token is replaced: a request sent
/// with a token about to expire may arrive after it did.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// How long a token that lives `lifetime` is used: its life less the
/// margin, or less half its life when that is shorter. A flat minute would
/// leave nothing of a token that lives a minute or less, which would then
/// be fetched again before every request (and, rotating, its refresh
/// token rewritten each time).
fn usable_for(lifetime: Duration) -> Duration {
    lifetime.saturating_sub(EXPIRY_MARGIN.min(lifetime / 2))
}

/// Why no token could be had. Messages carry no secret: provider text is
/// redacted before it gets here.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(
        "the token endpoint refused the grant (invalid_grant): {message}; a person must \
         authorise tether again and put the new refresh token where its secret is read"
    )]
    Reconsent { message: String },
    #[error("the token endpoint answered {status}: {message}")]
    Refused { status: u16, message: String },
    #[error("the token endpoint's answer is not a token: {0}")]
    NotAToken(String),
    #[error("{0}")]
    Transport(#[from] super::client::Failure),
    #[error(
        "the provider rotated the refresh token and it could not be kept in {}: {reason}",
        path.display()
    )]
    KeepRotated { path: PathBuf, reason: String },
}

impl OAuth2 {
    pub fn new(token_url: String, client_id: String, client_secret: Secret, grant: Grant) -> Self {
        OAuth2 {
            token_url,
            client_id,
            client_secret,
            grant,
            token: None,
            fetches: 0,
            rotated_unsaved: false,
        }
    }

    /// A valid access token: the cached one, or a new one.
    fn access(
        &mut self,
        client: &Client,
        clock: &dyn Clock,
        redactor: &mut Redactor,
    ) -> Result<&Secret, AuthError> {
        let fresh = self
            .token
            .as_ref()
            .is_some_and(|t| t.good_until.is_none_or(|until| clock.now() < until));
        if !fresh {
            self.token = None;
            let token = self.fetch(client, clock, redactor)?;
            self.token = Some(token);
        }
        match &self.token {
            Some(t) => Ok(&t.access),
            None => Err(AuthError::NotAToken("no token".into())),
        }
    }

    fn fetch(
        &mut self,
        client: &Client,
        clock: &dyn Clock,
        redactor: &mut Redactor,
    ) -> Result<Token, AuthError> {
        let mut form: Vec<(&str, &str)> = vec![
            ("client_id", &self.client_id),
            ("client_secret", self.client_secret.expose()),
        ];
        match &self.grant {
            Grant::ClientCredentials { scope } => {
                form.push(("grant_type", "client_credentials"));
                if let Some(scope) = scope {
                    form.push(("scope", scope));
                }
            }
            Grant::RefreshToken { token, .. } => {
                form.push(("grant_type", "refresh_token"));
                form.push(("refresh_token", token.expose()));
            }
        }
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, COMPONENT)))
            .collect::<Vec<_>>()
            .join("&");
        let request = Request {
            method: Method::Post,
            url: self.token_url.clone(),
            headers: vec![
                (
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
                ("Accept".into(), "application/json".into()),
            ],
            body: Some(body.into_bytes()),
            label: "POST (token endpoint)".into(),
        };
        let response = client.send(&request)?;
        self.fetches += 1;
        let json: Option<Json> = serde_json::from_slice(&response.body).ok();
        let text = |at: &str| {
            json.as_ref()
                .and_then(|j| json_at(j, &[at]))
                .and_then(Json::as_str)
        };
        if !(200..300).contains(&response.status) {
            let message = redactor.clean(
                text("error_description")
                    .or(text("error"))
                    .unwrap_or(&String::from_utf8_lossy(&response.body)),
            );
            if text("error") == Some("invalid_grant") {
                return Err(AuthError::Reconsent { message });
            }
            return Err(AuthError::Refused {
                status: response.status,
                message,
            });
        }
        let Some(access) = text("access_token").filter(|t| !t.is_empty()) else {
            return Err(AuthError::NotAToken(
                "it has no `access_token` (RFC 6749 §5.1)".into(),
            ));
        };
        let access = Secret::new(access);
        redactor.add(&access);
        let good_until = json
            .as_ref()
            .and_then(|j| json_at(j, &["expires_in"]))
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
            // Clamped on input: `expires_in` is the provider's number, and
            // u64::MAX seconds added to an instant would panic.
            .map(|secs| {
                let lifetime = Duration::from_secs(secs).min(super::FAR);
                super::instant_after(clock.now(), usable_for(lifetime))
            });
        if let (Some(new), Grant::RefreshToken { token, file }) =
            (text("refresh_token"), &mut self.grant)
            && !new.is_empty()
            && new != token.expose()
        {
            let new = Secret::new(new);
            redactor.add(&new);
            match file {
                // Kept before the new access token is used: the provider
                // has revoked the old refresh token already.
                Some(path) => {
                    let line = format!("{}\n", new.expose());
                    crate::safe_fs::write_secret_atomically(path, line.as_bytes()).map_err(
                        |e| AuthError::KeepRotated {
                            path: path.clone(),
                            reason: e.to_string(),
                        },
                    )?;
                }
                None => self.rotated_unsaved = true,
            }
            *token = new;
        }
        Ok(Token { access, good_until })
    }
}

impl Credentials {
    /// Every secret these credentials hold, for the redactor.
    pub fn seed(&self, redactor: &mut Redactor) {
        match self {
            Credentials::None => {}
            Credentials::ApiKey { key, .. } => redactor.add(key),
            Credentials::Basic { user, password } => {
                redactor.add(password);
                redactor.add_value(&format!("{user}:{}", password.expose()));
            }
            Credentials::Bearer(token) => redactor.add(token),
            Credentials::OAuth2(o) => {
                redactor.add(&o.client_secret);
                if let Grant::RefreshToken { token, .. } = &o.grant {
                    redactor.add(token);
                }
            }
        }
    }

    /// Adds the credentials to `request` (fetching a token first when
    /// there is none, or it is about to expire).
    pub fn apply(
        &mut self,
        request: &mut Request,
        client: &Client,
        clock: &dyn Clock,
        redactor: &mut Redactor,
    ) -> Result<(), AuthError> {
        let header = match self {
            Credentials::None => return Ok(()),
            Credentials::ApiKey {
                carrier: KeyCarrier::Query,
                name,
                key,
            } => {
                let sep = if request.url.contains('?') { '&' } else { '?' };
                request.url = format!(
                    "{}{sep}{}={}",
                    request.url,
                    utf8_percent_encode(name, COMPONENT),
                    utf8_percent_encode(key.expose(), COMPONENT)
                );
                return Ok(());
            }
            Credentials::ApiKey {
                carrier: KeyCarrier::Header,
                name,
                key,
            } => (name.clone(), key.expose().to_string()),
            Credentials::Basic { user, password } => {
                let pair = format!("{user}:{}", password.expose());
                let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
                ("Authorization".into(), format!("Basic {encoded}"))
            }
            Credentials::Bearer(token) => {
                ("Authorization".into(), format!("Bearer {}", token.expose()))
            }
            Credentials::OAuth2(o) => {
                let token = o.access(client, clock, redactor)?;
                ("Authorization".into(), format!("Bearer {}", token.expose()))
            }
        };
        request
            .headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case(&header.0));
        request.headers.push(header);
        Ok(())
    }

    /// Whether a 401 can be answered by fetching a new token.
    pub fn can_refresh(&self) -> bool {
        matches!(self, Credentials::OAuth2(_))
    }

    /// Drops a cached access token (the provider answered 401 to it).
    pub fn invalidate(&mut self) {
        if let Credentials::OAuth2(o) = self {
            o.token = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_used_for_its_life_less_a_minute_or_less_half_when_shorter() {
        let secs = Duration::from_secs;
        assert_eq!(usable_for(secs(1800)), secs(1740));
        assert_eq!(usable_for(secs(120)), secs(60));
        assert_eq!(usable_for(secs(60)), secs(30));
        assert_eq!(usable_for(secs(10)), secs(5));
        assert_eq!(usable_for(secs(0)), secs(0));
    }
}
