//! Logging setup shared by every function, the authorizer included: what
//! `lambda_runtime::tracing::init_default_subscriber` does, without its `EnvFilter` (which links a
//! regex engine, about a megabyte per binary, to parse filter directives we never use).
//!
//! With `AWS_LAMBDA_LOG_FORMAT=JSON` (the template sets it) every line is a JSON object carrying
//! the spans around it, among them lambda_runtime's per-invocation span with the `requestId` (the
//! authorizer's own Runtime API client opens the same span). The level comes from
//! `AWS_LAMBDA_LOG_LEVEL` (Lambda's log controls), else `RUST_LOG` (a single level such as
//! `debug`), else INFO. Lambda timestamps every line itself, so we do not.

use tracing::level_filters::LevelFilter;

/// How a binary logs: part of its configuration, read once at init with the rest of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogConfig {
    /// `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else INFO.
    pub level: LevelFilter,
    /// `AWS_LAMBDA_LOG_FORMAT=JSON`: one JSON object per line.
    pub json: bool,
}

impl LogConfig {
    /// From the process environment. Nothing here is required and nothing can be invalid: an
    /// unreadable level means INFO (Lambda's own log controls set these two variables).
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// From any lookup of variables (tests, or a binary's own environment reader).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let level = level_from(
            get("AWS_LAMBDA_LOG_LEVEL").as_deref(),
            get("RUST_LOG").as_deref(),
        );
        let json = get("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
        Self { level, json }
    }
}

/// Installs the subscriber for the process; call once, in `main`, with the binary's
/// configuration.
pub fn init(config: &LogConfig) {
    let builder = tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_ansi(false)
        .with_max_level(config.level);
    // A second init (a test calling main twice) keeps the first subscriber: not worth a panic.
    let _ = if config.json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// `AWS_LAMBDA_LOG_LEVEL` wins over `RUST_LOG`; Lambda's level names are upper case, `FATAL`
/// included; anything unreadable means INFO.
fn level_from(lambda_level: Option<&str>, rust_log: Option<&str>) -> LevelFilter {
    let parse = |text: &str| match text.trim().to_ascii_lowercase().as_str() {
        "trace" => Some(LevelFilter::TRACE),
        "debug" => Some(LevelFilter::DEBUG),
        "info" => Some(LevelFilter::INFO),
        "warn" => Some(LevelFilter::WARN),
        "error" | "fatal" => Some(LevelFilter::ERROR),
        "off" => Some(LevelFilter::OFF),
        _ => None,
    };
    lambda_level
        .and_then(parse)
        .or_else(|| rust_log.and_then(parse))
        .unwrap_or(LevelFilter::INFO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_log_controls_win_and_unknown_levels_mean_info() {
        assert_eq!(level_from(Some("DEBUG"), Some("error")), LevelFilter::DEBUG);
        assert_eq!(level_from(None, Some("warn")), LevelFilter::WARN);
        assert_eq!(level_from(Some("FATAL"), None), LevelFilter::ERROR);
        assert_eq!(level_from(Some("loud"), Some("trace")), LevelFilter::TRACE);
        assert_eq!(level_from(None, Some("info,hyper=warn")), LevelFilter::INFO);
        assert_eq!(level_from(None, None), LevelFilter::INFO);
    }

    #[test]
    fn the_config_reads_lambdas_log_controls() {
        let config = LogConfig::from_lookup(|name| match name {
            "AWS_LAMBDA_LOG_LEVEL" => Some("WARN".to_owned()),
            "AWS_LAMBDA_LOG_FORMAT" => Some("JSON".to_owned()),
            _ => None,
        });
        assert_eq!(
            config,
            LogConfig {
                level: LevelFilter::WARN,
                json: true
            }
        );
        assert!(!LogConfig::from_lookup(|_| None).json);
    }
}
