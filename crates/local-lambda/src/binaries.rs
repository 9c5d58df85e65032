//! The workspace's function binaries, built on demand for tests that run more than one of them
//! (a test can only name its own package's binaries with `CARGO_BIN_EXE_*`), and the one cargo
//! command that builds every binary the dev commands run.
//!
//! Why one command: cargo unifies features over the packages a command selects, so `cargo build
//! -p notes-dev`, `cargo build --bin list` and `cargo test --workspace` each build the shared
//! dependencies with other features, under other hashes, and a `make dev` that used one after a
//! test run that used another compiled for minutes. `make dev`, `make token`, `make dynamodb`
//! and the tests all build with [`DEV_BUILD_ARGS`] (the Makefile's `DEV_BUILD` is the same line,
//! checked by a test), so whichever runs first builds for all of them.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use local_aws::{DevkitError, workspace_root};

/// Every Lambda function binary of the workspace.
pub const FUNCTION_BINARIES: &[&str] = &[
    "authorizer",
    "list",
    "createUpdate",
    "delete",
    "post",
    "dictate",
    "account",
    "purge",
];

/// `cargo` + these: every binary of the workspace but the benchmark's, with every feature, in
/// the dev profile. The Makefile's `DEV_BUILD` says the same.
pub const DEV_BUILD_ARGS: &[&str] = &[
    "build",
    "--workspace",
    "--exclude",
    "notes-bench",
    "--bins",
    "--all-features",
];

/// The path of a debug build of `name`, building the dev binaries once per process with the
/// `cargo` that runs the tests (up-to-date builds cost nothing). cargo's output is captured and
/// shown only if the build fails.
pub fn function_binary(name: &str) -> Result<PathBuf, DevkitError> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let dir = BUILT
        .get_or_init(|| build(false))
        .as_ref()
        .map_err(|message| DevkitError::Build(message.clone()))?;
    binary_in(dir, name)
}

/// [`function_binary`] for a person at a terminal: cargo's progress goes to stderr as it builds.
pub fn function_binary_with_progress(name: &str) -> Result<PathBuf, DevkitError> {
    let dir = build(true).map_err(DevkitError::Build)?;
    binary_in(&dir, name)
}

fn build(show_progress: bool) -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(workspace_root()).args(DEV_BUILD_ARGS);
    for (name, _) in std::env::vars_os() {
        if let Some(name) = name.to_str()
            && is_set_by_cargo_for_this_process(name)
        {
            command.env_remove(name);
        }
    }
    if show_progress {
        command.stdout(Stdio::null()).stderr(Stdio::inherit());
        let status = command
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !status.success() {
            return Err(format!("cargo build of the dev binaries failed ({status})"));
        }
    } else {
        command.arg("--quiet");
        let output = command
            .output()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "cargo build of the dev binaries failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    Ok(target.join("debug"))
}

/// Whether `name` is one of the variables cargo sets for the process it runs (a test binary,
/// `cargo run`), which a shell does not have. Build scripts watch some of them (ring's reruns
/// when `CARGO_PKG_NAME` or `CARGO_MANIFEST_DIR` changes), so a `cargo build` started with them
/// rebuilt ring and everything above it, and the next `make dev` rebuilt it all back: a build
/// started from here must see the environment a developer's shell gives cargo.
fn is_set_by_cargo_for_this_process(name: &str) -> bool {
    name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_BIN_")
        || matches!(
            name,
            "CARGO_MANIFEST_DIR"
                | "CARGO_MANIFEST_PATH"
                | "CARGO_MANIFEST_LINKS"
                | "CARGO_CRATE_NAME"
                | "CARGO_PRIMARY_PACKAGE"
                | "CARGO_TARGET_TMPDIR"
                | "CARGO_RUSTC_CURRENT_DIR"
                | "OUT_DIR"
        )
}

fn binary_in(dir: &std::path::Path, name: &str) -> Result<PathBuf, DevkitError> {
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(DevkitError::Build(format!(
            "{} was not built",
            path.display()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variables_cargo_sets_for_a_test_are_not_handed_to_the_build() {
        for (name, dropped) in [
            ("CARGO_PKG_NAME", true),
            ("CARGO_PKG_VERSION_MAJOR", true),
            ("CARGO_MANIFEST_DIR", true),
            ("CARGO_BIN_EXE_notes-dev", true),
            ("CARGO_TARGET_TMPDIR", true),
            ("OUT_DIR", true),
            ("CARGO_TARGET_DIR", false),
            ("CARGO_HOME", false),
            ("CARGO", false),
            ("PATH", false),
        ] {
            assert_eq!(is_set_by_cargo_for_this_process(name), dropped, "{name}");
        }
    }

    /// The Makefile builds with the same command as the tests and the CLI: otherwise each would
    /// build the dependencies with its own features, and a `make dev` after `make test` would
    /// compile again.
    #[test]
    fn the_makefile_builds_with_the_same_command() {
        let makefile = std::fs::read_to_string(workspace_root().join("Makefile"))
            .unwrap_or_else(|error| format!("Makefile unreadable: {error}"));
        let line = format!("DEV_BUILD = cargo {}", DEV_BUILD_ARGS.join(" "));
        assert!(
            makefile.lines().any(|l| l.trim() == line),
            "the Makefile must define exactly `{line}`"
        );
    }
}
