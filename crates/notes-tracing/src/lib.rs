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

/// Installs the subscriber for the process; call once, first thing in `main`.
pub fn init() {
    let level = level_from(
        std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().as_deref(),
        std::env::var("RUST_LOG").ok().as_deref(),
    );
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_ansi(false)
        .with_max_level(level);
    // A second init (a test calling main twice) keeps the first subscriber: not worth a panic.
    let _ = if json {
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
}
