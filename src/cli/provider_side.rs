//! `tether sync --left provider:NAME[.resource]`: a side that is a REST
//! API declared in the mapping's file or a `.tprovider` it imports
//! (docs/design/10-rest-providers.md, "Declaring a provider").
//!
//! The side's resource is the one whose record type is the mapping's type
//! for that side (or the one named). Everything a side needs from the
//! environment (the base when it is `env(…)`, every secret) is resolved
//! here, before the first request, so a missing variable stops the sync
//! with its name and nothing half-done; no value is ever printed.

use super::{DiagFormat, EXIT_MAPPING_ERRORS, EXIT_USAGE, Shown, compile_reporting};
use crate::base::Side;
use crate::http::SystemClock;
use crate::http::auth::{Credentials, Grant, OAuth2};
use crate::http::client::ClientConfig;
use crate::http::exchange::{Exchange, ExchangeSpec, RetrySpec};
use crate::plan::PlanFile;
use crate::plan::sync_spec::SyncSpec;
use crate::provider::spec::{AuthSpec, GrantSpec, ProviderSpec, ResourceSpec, check_base_url};
use crate::sync::filedrop::FileDrop;
use crate::sync::provider::Provider;
use crate::sync::rest::{Addressing, RestProvider};
use std::path::{Path, PathBuf};

/// What `--left`/`--right` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SideTarget {
    Folder(PathBuf),
    /// `provider:NAME` or `provider:NAME.resource`.
    Provider {
        name: String,
        resource: Option<String>,
    },
}

impl SideTarget {
    /// `provider:` names a provider; anything else is a folder (a folder
    /// really named `provider:x` is written `./provider:x`).
    pub fn parse(arg: &Path) -> SideTarget {
        match arg.to_str().and_then(|s| s.strip_prefix("provider:")) {
            Some(rest) => match rest.split_once('.') {
                Some((name, resource)) => SideTarget::Provider {
                    name: name.to_string(),
                    resource: Some(resource.to_string()),
                },
                None => SideTarget::Provider {
                    name: rest.to_string(),
                    resource: None,
                },
            },
            None => SideTarget::Folder(arg.to_path_buf()),
        }
    }
}

/// One side of a sync, ready.
pub enum SideConn {
    Files(FileDrop),
    Rest(Box<RestProvider<SystemClock>>),
}

impl SideConn {
    pub fn provider(&mut self) -> &mut dyn Provider {
        match self {
            SideConn::Files(f) => f,
            SideConn::Rest(r) => r.as_mut(),
        }
    }

    pub fn provider_ref(&self) -> &dyn Provider {
        match self {
            SideConn::Files(f) => f,
            SideConn::Rest(r) => r.as_ref(),
        }
    }

    /// The folder side's connector, for its settings and notes.
    pub fn files(&mut self) -> Option<&mut FileDrop> {
        match self {
            SideConn::Files(f) => Some(f),
            SideConn::Rest(_) => None,
        }
    }
}

/// A mapping file's (or a plan file's) plans, with the providers it
/// declares and imports and each mapping's record types by name
/// (`hubspot.Contact`), which pick a side's resource.
pub struct Loaded {
    pub plans: PlanFile,
    pub from_plan_file: bool,
}

/// The plans of a plan file, or of a mapping source compiled now (the
/// diagnostics `shown` selects printed), with the providers it declares
/// and imports (a plan file holds its own since plan format 3). `Err`:
/// the exit code.
pub fn load(path: &Path, shown: Shown<'_>) -> Result<Loaded, u8> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", path.display());
            return Err(EXIT_USAGE);
        }
    };
    if PlanFile::is_plan(&text) {
        let plans = PlanFile::parse(&text).map_err(|e| {
            eprintln!("error: {}: {e}", path.display());
            EXIT_USAGE
        })?;
        return Ok(Loaded {
            plans,
            from_plan_file: true,
        });
    }
    let Some(compiled) = compile_reporting(path, DiagFormat::Human, &[], shown) else {
        return Err(EXIT_USAGE);
    };
    match &compiled.program {
        Some(program) => {
            let mut plans = PlanFile::of_program(program);
            plans.providers = compiled.providers.clone();
            Ok(Loaded {
                plans,
                from_plan_file: false,
            })
        }
        None => {
            eprintln!("error: {} has errors; nothing was run", path.display());
            Err(EXIT_MAPPING_ERRORS)
        }
    }
}

/// The REST side `provider:NAME[.resource]` of `mapping`'s `side`, its
/// secrets resolved from `env`. Err: a sentence for the user (exit 2);
/// it names variables, never their values.
pub fn rest_side(
    loaded: &Loaded,
    mapping: &str,
    sync: &SyncSpec,
    side: Side,
    name: &str,
    resource: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<RestProvider<SystemClock>, String> {
    rest_side_and_resource(loaded, mapping, sync, side, name, resource, env).map(|(p, _, _)| p)
}

/// [`rest_side`], the resource it serves and the provider's `webhook`
/// clauses (a webhook side paired with it reads the resource's `fetch` and
/// `read`, and the clause for its preset: `cli::webhook_side`).
pub fn rest_side_and_resource(
    loaded: &Loaded,
    mapping: &str,
    sync: &SyncSpec,
    side: Side,
    name: &str,
    resource: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<
    (
        RestProvider<SystemClock>,
        ResourceSpec,
        Vec<crate::provider::spec::WebhookSpec>,
    ),
    String,
> {
    let flag = match side {
        Side::Left => "--left",
        Side::Right => "--right",
    };
    let providers = &loaded.plans.providers;
    let Some(spec) = providers.iter().find(|p| p.name == name) else {
        let known: Vec<&str> = providers.iter().map(|p| p.name.as_str()).collect();
        let (what, how) = if loaded.from_plan_file {
            (
                "the plan holds",
                " (build the plan from sources that declare or import it)",
            )
        } else {
            (
                "the file declares",
                " (declare one, or `import provider NAME from \"x.tprovider\"`)",
            )
        };
        return Err(format!(
            "{flag} provider:{name}: {what} no provider `{name}`{}",
            if known.is_empty() {
                how.to_string()
            } else {
                format!(" (it has: {})", known.join(", "))
            }
        ));
    };
    let Some(types) = loaded
        .plans
        .record_types
        .iter()
        .find(|t| t.mapping == mapping)
    else {
        return Err(format!("mapping `{mapping}` has no record types"));
    };
    let wanted = match side {
        Side::Left => &types.left,
        Side::Right => &types.right,
    };
    let chosen: Vec<&ResourceSpec> = spec
        .resources
        .iter()
        .filter(|r| resource.is_none_or(|n| r.name == n))
        .collect();
    let fitting: Vec<&ResourceSpec> = chosen
        .iter()
        .copied()
        .filter(|r| &r.record_type == wanted)
        .collect();
    let res = match (fitting.as_slice(), resource) {
        ([one], _) => *one,
        ([], Some(r)) if chosen.is_empty() => {
            return Err(format!(
                "{flag} provider:{name}.{r}: provider `{name}` has no resource `{r}`"
            ));
        }
        ([], _) => {
            let served: Vec<String> = chosen
                .iter()
                .map(|r| format!("{} ({})", r.name, r.record_type))
                .collect();
            return Err(format!(
                "{flag} provider:{name}: mapping `{mapping}` has `{wanted}` on this side, and no \
                 resource of `{name}` serves it{}",
                if served.is_empty() {
                    String::new()
                } else {
                    format!(" (it serves: {})", served.join(", "))
                }
            ));
        }
        (several, _) => {
            let names: Vec<&str> = several.iter().map(|r| r.name.as_str()).collect();
            return Err(format!(
                "{flag} provider:{name}: resources {} all serve `{wanted}`; name one: \
                 `provider:{name}.{}`",
                names.join(", "),
                names[0]
            ));
        }
    };
    Ok((
        build(spec, res, Addressing::of(sync, side), env)?,
        res.clone(),
        spec.webhooks.clone(),
    ))
}

/// The side's [`RestProvider`]: the base and every secret resolved first.
fn build(
    spec: &ProviderSpec,
    res: &ResourceSpec,
    addressing: Addressing,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<RestProvider<SystemClock>, String> {
    let who = format!("provider `{}`", spec.name);
    let base = spec.base.resolve(env).map_err(|var| {
        format!("{who}: its base is read from ${var}, which is not set (and has no default)")
    })?;
    check_base_url(&base).map_err(|why| format!("{who}: its base cannot be used: {why}"))?;
    let base = base.trim_end_matches('/').to_string();
    let secret_err = |e: crate::http::secret::SecretError| format!("{who}: {e}");
    let credentials = match &spec.auth {
        AuthSpec::None => Credentials::None,
        AuthSpec::ApiKey { carrier, name, key } => Credentials::ApiKey {
            carrier: *carrier,
            name: name.clone(),
            key: key.resolve_with(env).map_err(secret_err)?,
        },
        AuthSpec::Basic { user, password } => Credentials::Basic {
            user: user.resolve(env).map_err(|var| {
                format!("{who}: the user name is read from ${var}, which is not set")
            })?,
            password: password.resolve_with(env).map_err(secret_err)?,
        },
        AuthSpec::Bearer(token) => {
            Credentials::Bearer(token.resolve_with(env).map_err(secret_err)?)
        }
        AuthSpec::OAuth2 {
            token_url,
            client_id,
            client_secret,
            grant,
        } => {
            let token_url = if token_url.starts_with('/') {
                format!("{base}{token_url}")
            } else {
                token_url.clone()
            };
            let client_id = client_id.resolve(env).map_err(|var| {
                format!("{who}: the client id is read from ${var}, which is not set")
            })?;
            let client_secret = client_secret.resolve_with(env).map_err(secret_err)?;
            let grant = match grant {
                GrantSpec::ClientCredentials { scope } => Grant::ClientCredentials {
                    scope: scope.clone(),
                },
                GrantSpec::RefreshToken { token, rotating } => {
                    let file = env(&token.file_var()).map(PathBuf::from);
                    // A rotated token must be written somewhere before it is
                    // used, or the next run has none.
                    if *rotating && file.is_none() {
                        return Err(format!(
                            "{who}: its refresh token rotates, so it must come from a file: set \
                             {} to the file holding it (tether writes each new token there)",
                            token.file_var()
                        ));
                    }
                    Grant::RefreshToken {
                        token: token.resolve_with(env).map_err(secret_err)?,
                        file,
                    }
                }
            };
            Credentials::OAuth2(OAuth2::new(token_url, client_id, client_secret, grant))
        }
    };
    let limits = &spec.limits;
    let exchange = Exchange::new(
        ExchangeSpec {
            name: spec.name.clone(),
            client: ClientConfig {
                connect_timeout: limits.connect_timeout,
                request_timeout: limits.request_timeout,
                ..ClientConfig::default()
            },
            credentials,
            budgets: limits.budgets.clone(),
            breaker: limits.breaker,
            classes: spec.status.clone(),
            message_at: spec.message_at.clone(),
            retry: RetrySpec {
                max_attempts: limits.max_attempts,
                backoff_min: limits.backoff_min,
                backoff_max: limits.backoff_max,
                ..RetrySpec::default()
            },
        },
        SystemClock,
    );
    let provider = match &res.read {
        Some(read) => RestProvider::new(&spec.name, exchange, &base, read.clone()),
        None => RestProvider::write_only(&spec.name, exchange, &base),
    };
    Ok(provider.with_writes(res.writes.clone(), addressing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_prefix_names_a_provider_and_a_resource() {
        assert_eq!(
            SideTarget::parse(Path::new("provider:hubspot.contacts")),
            SideTarget::Provider {
                name: "hubspot".into(),
                resource: Some("contacts".into())
            }
        );
        assert_eq!(
            SideTarget::parse(Path::new("provider:hubspot")),
            SideTarget::Provider {
                name: "hubspot".into(),
                resource: None
            }
        );
        assert_eq!(
            SideTarget::parse(Path::new("./provider:x")),
            SideTarget::Folder(PathBuf::from("./provider:x"))
        );
    }
}
