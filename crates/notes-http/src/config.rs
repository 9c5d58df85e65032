//! Reading configuration from the environment once, at init, with errors that name the variable.

/// A missing or unusable environment variable: the function refuses to start, and the message
/// (in the init error log) says which variable and what it is for.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {name} is not set: {purpose}")]
    Missing {
        name: &'static str,
        purpose: &'static str,
    },
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl ConfigError {
    /// `name` refused by a parser of another crate, whose error says why.
    pub fn invalid(name: &'static str, error: impl std::fmt::Display) -> Self {
        Self::Invalid {
            name,
            reason: error.to_string(),
        }
    }
}

/// A variable that must be set and non-empty.
pub fn required_env(name: &'static str, purpose: &'static str) -> Result<String, ConfigError> {
    match optional_env(name)? {
        Some(value) => Ok(value),
        None => Err(ConfigError::Missing { name, purpose }),
    }
}

/// A variable that may be unset; set but empty counts as unset, set but not UTF-8 is an error.
pub fn optional_env(name: &'static str) -> Result<Option<String>, ConfigError> {
    match std::env::var(name) {
        Ok(value) if value.trim().is_empty() => Ok(None),
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError::Invalid {
            name,
            reason: "not valid UTF-8".into(),
        }),
    }
}

/// A `true`/`false` variable; unset or empty is `false`.
pub fn flag_env(name: &'static str) -> Result<bool, ConfigError> {
    match optional_env(name)?.as_deref().map(str::trim) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ConfigError::Invalid {
            name,
            reason: "must be \"true\" or \"false\"".into(),
        }),
    }
}

/// A whole number from `min` to `max`; unset or empty is `default`.
pub fn number_env(
    name: &'static str,
    default: u32,
    min: u32,
    max: u32,
) -> Result<u32, ConfigError> {
    match optional_env(name)? {
        None => Ok(default),
        Some(value) => value
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|number| (min..=max).contains(number))
            .ok_or_else(|| ConfigError::Invalid {
                name,
                reason: format!("must be a whole number from {min} to {max}"),
            }),
    }
}
