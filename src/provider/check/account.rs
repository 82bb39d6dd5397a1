//! Where a provider is and who it is to it: `base`, settings from the environment, secrets, `auth` (E0241, E0242, E0252).

use super::*;

impl Cx<'_> {
    pub(super) fn base(&mut self, s: &ast::Setting) -> Option<EnvOr> {
        let value = match s {
            ast::Setting::Literal(v) => Some(v),
            ast::Setting::Env { default, .. } => default.as_ref(),
            ast::Setting::Secret { span, .. } => {
                let d = self
                    .e(Code::E0240, *span, "the base URL is not a secret")
                    .label("`secret(…)` here")
                    .help("write the URL, or `env(\"NAME\")` to read it from the environment");
                self.push(d);
                return None;
            }
        };
        if let Some(v) = value
            && let Err(why) = check_base_url(&v.value)
        {
            let d = self
                .e(
                    Code::E0242,
                    v.span,
                    format!("`{}` cannot be a base URL: {why}", v.value),
                )
                .label("invalid base URL");
            self.push(d);
            return None;
        }
        self.plain(s, "the base URL")
    }

    /// A setting that is not a secret: a literal or `env(…)`.
    pub(super) fn plain(&mut self, s: &ast::Setting, what: &str) -> Option<EnvOr> {
        match s {
            ast::Setting::Literal(v) => Some(EnvOr::Literal(v.value.clone())),
            ast::Setting::Env { name, default, .. } => Some(EnvOr::Env {
                name: self.env_name(name)?,
                default: default.as_ref().map(|d| d.value.clone()),
            }),
            ast::Setting::Secret { span, .. } => {
                let d = self
                    .e(Code::E0240, *span, format!("{what} is not a secret"))
                    .label("`secret(…)` here")
                    .help("write the value, or `env(\"NAME\")` to read it from the environment");
                self.push(d);
                None
            }
        }
    }

    /// A secret: only `secret("NAME")`.
    pub(super) fn secret(&mut self, s: &ast::Setting, what: &str) -> Option<SecretRef> {
        match s {
            ast::Setting::Secret { name, .. } => Some(SecretRef::new(self.env_name(name)?)),
            ast::Setting::Literal(v) => {
                let d = self
                    .e(
                        Code::E0241,
                        v.span,
                        format!("{what} cannot be written here: it is a secret"),
                    )
                    .label("a secret written as a literal")
                    .help("write `secret(\"NAME\")`: tether reads it from $NAME, or from the file named by $NAME_FILE")
                    .note("a secret in a file ends up in version control, in plan files and in logs");
                self.push(d);
                None
            }
            ast::Setting::Env { span, .. } => {
                let d = self
                    .e(
                        Code::E0241,
                        *span,
                        format!("{what} is a secret: `env(…)` values are not kept secret"),
                    )
                    .label("read as a plain value")
                    .help("write `secret(\"NAME\")`: read from the same variable (or $NAME_FILE), redacted from every message");
                self.push(d);
                None
            }
        }
    }

    pub(super) fn env_name(&mut self, name: &StringLit) -> Option<String> {
        let valid = !name.value.is_empty()
            && name
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.value.starts_with(|c: char| c.is_ascii_digit());
        if valid {
            Some(name.value.clone())
        } else {
            let d = self
                .e(
                    Code::E0240,
                    name.span,
                    format!("`{}` is not an environment variable name", name.value),
                )
                .label("letters, digits and `_` only");
            self.push(d);
            None
        }
    }

    // -------------------------------------------------------- auth

    pub(super) fn auth(&mut self, a: &ast::AuthDecl) -> Option<AuthSpec> {
        match &a.kind {
            ast::AuthKind::None => Some(AuthSpec::None),
            ast::AuthKind::ApiKey { place, name, key } => {
                let key = self.secret(key, "an API key");
                if *place == ast::KeyPlace::Header && !self.header_name(name) {
                    return None;
                }
                Some(AuthSpec::ApiKey {
                    carrier: match place {
                        ast::KeyPlace::Header => KeyCarrier::Header,
                        ast::KeyPlace::Query => KeyCarrier::Query,
                    },
                    name: name.value.clone(),
                    key: key?,
                })
            }
            ast::AuthKind::Basic { user, password } => {
                let user = self.plain(user, "a user name");
                let password = self.secret(password, "a password");
                Some(AuthSpec::Basic {
                    user: user?,
                    password: password?,
                })
            }
            ast::AuthKind::Bearer(token) => Some(AuthSpec::Bearer(self.secret(token, "a token")?)),
            ast::AuthKind::OAuth2 {
                grant,
                grant_span,
                entries,
            } => self.oauth2(*grant, *grant_span, entries),
        }
    }

    pub(super) fn oauth2(
        &mut self,
        grant: ast::GrantWord,
        grant_span: Span,
        entries: &[ast::OAuthEntry],
    ) -> Option<AuthSpec> {
        let mut by_key: HashMap<&'static str, &ast::OAuthEntry> = HashMap::new();
        let mut ok = true;
        for e in entries {
            let word = e.key.word();
            if let Some(first) = by_key.get(word) {
                let d = self
                    .e(Code::E0252, e.span, format!("`{word}` is written twice"))
                    .label("second")
                    .secondary(self.file, first.span, "first here");
                self.push(d);
                ok = false;
                continue;
            }
            by_key.insert(word, e);
            if let Some(r) = e.rotating
                && e.key != ast::OAuthKey::RefreshToken
            {
                let d = self
                    .e(Code::E0252, r, "only a refresh token can be `rotating`")
                    .label(format!("on `{word}`"));
                self.push(d);
                ok = false;
            }
            let misplaced = match (grant, e.key) {
                (ast::GrantWord::ClientCredentials, ast::OAuthKey::RefreshToken) => {
                    Some("a client-credentials grant has no refresh token")
                }
                (ast::GrantWord::RefreshToken, ast::OAuthKey::Scope) => Some(
                    "a refresh grant keeps the scopes consented to: `scope` is for `client_credentials`",
                ),
                _ => None,
            };
            if let Some(why) = misplaced {
                let d = self
                    .e(Code::E0252, e.span, why)
                    .label(format!("`{word}` here"));
                self.push(d);
                ok = false;
            }
        }
        let mut required = vec![
            ast::OAuthKey::TokenUrl,
            ast::OAuthKey::ClientId,
            ast::OAuthKey::ClientSecret,
        ];
        if grant == ast::GrantWord::RefreshToken {
            required.push(ast::OAuthKey::RefreshToken);
        }
        let missing: Vec<&str> = required
            .iter()
            .map(|k| k.word())
            .filter(|w| !by_key.contains_key(w))
            .collect();
        if !missing.is_empty() {
            let list = missing
                .iter()
                .map(|w| format!("`{w}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let d = self
                .e(
                    Code::E0252,
                    grant_span,
                    format!("this OAuth 2.0 grant is missing {list}"),
                )
                .label("incomplete");
            self.push(d);
            return None;
        }
        let get = |k: ast::OAuthKey| by_key.get(k.word()).copied();
        let token_url = match get(ast::OAuthKey::TokenUrl).map(|e| &e.value) {
            Some(ast::Setting::Literal(v)) => {
                let fine = v.value.starts_with('/') || check_base_url(&v.value).is_ok();
                if !fine {
                    let d = self
                        .e(
                            Code::E0252,
                            v.span,
                            format!("`{}` cannot be a token URL", v.value),
                        )
                        .label("not a path or an `https://` URL")
                        .help("write a path relative to the base (`/oauth/v1/token`) or an absolute `https://` URL");
                    self.push(d);
                    ok = false;
                }
                Some(v.value.clone())
            }
            Some(other) => {
                let d = self
                    .e(Code::E0252, other.span(), "the token URL is written, not read from the environment")
                    .label("write the URL here")
                    .help("a path relative to the base follows the base, which may come from the environment");
                self.push(d);
                None
            }
            None => None,
        };
        let client_id =
            get(ast::OAuthKey::ClientId).and_then(|e| self.plain(&e.value, "a client id"));
        let client_secret =
            get(ast::OAuthKey::ClientSecret).and_then(|e| self.secret(&e.value, "a client secret"));
        let grant = match grant {
            ast::GrantWord::ClientCredentials => {
                let scope = match get(ast::OAuthKey::Scope).map(|e| &e.value) {
                    Some(ast::Setting::Literal(v)) => Some(v.value.clone()),
                    Some(other) => {
                        let d = self
                            .e(
                                Code::E0252,
                                other.span(),
                                "the scope is written as a string",
                            )
                            .label("write the scopes here");
                        self.push(d);
                        ok = false;
                        None
                    }
                    None => None,
                };
                GrantSpec::ClientCredentials { scope }
            }
            ast::GrantWord::RefreshToken => {
                let e = get(ast::OAuthKey::RefreshToken)?;
                GrantSpec::RefreshToken {
                    token: self.secret(&e.value, "a refresh token")?,
                    rotating: e.rotating.is_some(),
                }
            }
        };
        if !ok {
            return None;
        }
        Some(AuthSpec::OAuth2 {
            token_url: token_url?,
            client_id: client_id?,
            client_secret: client_secret?,
            grant,
        })
    }

    // -------------------------------------------------------- limits
}
