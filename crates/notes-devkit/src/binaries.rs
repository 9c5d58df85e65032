//! The workspace's function binaries, built on demand for tests that run more than one of them
//! (a test can only name its own package's binaries with `CARGO_BIN_EXE_*`).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use crate::{DevkitError, workspace_root};

/// Every Lambda function binary of the workspace.
pub const FUNCTION_BINARIES: &[&str] = &[
    "authorizer",
    "list",
    "createUpdate",
    "delete",
    "post",
    "dictate",
];

/// The path of a debug build of `name`, building all function binaries once per process with
/// the `cargo` that runs the tests (up-to-date builds cost nothing).
pub fn function_binary(name: &str) -> Result<PathBuf, DevkitError> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let dir = BUILT
        .get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut command = Command::new(cargo);
            command
                .current_dir(workspace_root())
                .args(["build", "--quiet"]);
            for binary in FUNCTION_BINARIES {
                command.args(["--bin", binary]);
            }
            let output = command
                .output()
                .map_err(|e| format!("cannot run cargo: {e}"))?;
            if !output.status.success() {
                return Err(format!(
                    "cargo build of the function binaries failed:\n{}",
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| workspace_root().join("target"));
            Ok(target.join("debug"))
        })
        .as_ref()
        .map_err(|message| DevkitError::Build(message.clone()))?;
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
