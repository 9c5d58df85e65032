//! Running one function implementation through the Lambda Runtime API emulator: fresh processes
//! for cold starts, one warm process for latency and memory.

use std::path::PathBuf;
use std::time::Duration;

use notes_devkit::runtime_api::{Invocation, LambdaSandbox, Outcome};
use serde_json::Value;

/// One implementation of one function, ready to be started.
#[derive(Debug, Clone)]
pub(crate) struct Subject {
    /// `list`, `createUpdate`, `post`, `authorizer`, `hello`.
    pub(crate) function: &'static str,
    /// `Rust`, `Python`, `Node`.
    pub(crate) runtime: &'static str,
    pub(crate) program: PathBuf,
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) event: Value,
    /// Binary and zip sizes in bytes, for what we deploy.
    pub(crate) binary_bytes: Option<u64>,
    pub(crate) zip_bytes: Option<u64>,
}

impl Subject {
    pub(crate) fn label(&self) -> String {
        format!("{} ({})", self.function, self.runtime)
    }

    pub(crate) async fn start(&self) -> Result<LambdaSandbox, String> {
        LambdaSandbox::start_with_args(&self.program, &self.args, &self.env)
            .await
            .map_err(|e| format!("{}: {e}", self.label()))
    }

    /// One invocation of this subject's event that must succeed; a failure stops the benchmark
    /// with the function's output, since its figures would mean nothing.
    pub(crate) async fn invoke(&self, sandbox: &LambdaSandbox) -> Result<Invocation, String> {
        let invocation = sandbox
            .invoke(&self.event)
            .await
            .map_err(|e| format!("{}: {e}", self.label()))?;
        if succeeded(&invocation.outcome) {
            Ok(invocation)
        } else {
            Err(format!(
                "{}: the invocation failed: {:?}\n{}",
                self.label(),
                invocation.outcome,
                sandbox.logs()
            ))
        }
    }
}

/// What one subject measured.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Measurement {
    pub(crate) function: &'static str,
    pub(crate) runtime: &'static str,
    /// Spawn to first result posted, per fresh process, in ms.
    pub(crate) cold_start_ms: Vec<f64>,
    /// Spawn to first `GET /next`, per fresh process, in ms.
    pub(crate) init_ms: Vec<f64>,
    /// Handler durations of the warm process (event handed out to result posted), in ms.
    pub(crate) warm_ms: Vec<f64>,
    pub(crate) peak_rss_kib: Option<u64>,
    pub(crate) binary_bytes: Option<u64>,
    pub(crate) zip_bytes: Option<u64>,
}

/// Whether an invocation succeeded: a 2xx proxy response, or an authorizer's policy.
pub(crate) fn succeeded(outcome: &Outcome) -> bool {
    match outcome {
        Outcome::Response(value) => match value.get("statusCode").and_then(Value::as_u64) {
            Some(status) => (200..300).contains(&status),
            None => true,
        },
        Outcome::Error { .. } => false,
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}

/// Warm invocations run in blocks of this many per subject: long enough for a process to be
/// warm as a busy sandbox is (one invocation after another), short enough to interleave.
const WARM_BLOCK: usize = 30;

/// Measures every subject, interleaved: cold start round `i` of every subject before round
/// `i + 1` of any, then warm invocations in blocks, each subject's block in turn. Whatever the
/// shared DynamoDB Local does meanwhile (a garbage collection, a late JIT compilation) lands on
/// all implementations alike instead of on whichever happened to be measured at that moment.
pub(crate) async fn measure_all(
    subjects: &[Subject],
    cold_runs: usize,
    warm_runs: usize,
) -> Result<Vec<Measurement>, String> {
    let mut measurements: Vec<Measurement> = subjects
        .iter()
        .map(|subject| Measurement {
            function: subject.function,
            runtime: subject.runtime,
            cold_start_ms: Vec::with_capacity(cold_runs),
            init_ms: Vec::with_capacity(cold_runs),
            warm_ms: Vec::with_capacity(warm_runs),
            peak_rss_kib: None,
            binary_bytes: subject.binary_bytes,
            zip_bytes: subject.zip_bytes,
        })
        .collect();

    eprintln!(
        "cold starts: {cold_runs} rounds over {} subjects",
        subjects.len()
    );
    for _ in 0..cold_runs {
        for (subject, measurement) in subjects.iter().zip(&mut measurements) {
            let sandbox = subject.start().await?;
            subject.invoke(&sandbox).await?;
            measurement
                .cold_start_ms
                .push(sandbox.cold_start().map(ms).unwrap_or_default());
            measurement
                .init_ms
                .push(sandbox.init_duration().map(ms).unwrap_or_default());
            sandbox.stop().await;
        }
    }

    eprintln!(
        "warm invocations: {warm_runs} per subject, in blocks of {WARM_BLOCK}, over {} subjects",
        subjects.len()
    );
    let mut sandboxes = Vec::with_capacity(subjects.len());
    for subject in subjects {
        let sandbox = subject.start().await?;
        // Warm-up, as a sandbox that has served a few requests (connection pools, lazy statics).
        for _ in 0..10 {
            subject.invoke(&sandbox).await?;
        }
        sandboxes.push(sandbox);
    }
    let mut done = 0;
    while done < warm_runs {
        let block = WARM_BLOCK.min(warm_runs - done);
        for ((subject, sandbox), measurement) in
            subjects.iter().zip(&sandboxes).zip(&mut measurements)
        {
            for _ in 0..block {
                let invocation = subject.invoke(sandbox).await?;
                measurement.warm_ms.push(ms(invocation.duration));
            }
        }
        done += block;
    }
    for (sandbox, measurement) in sandboxes.into_iter().zip(&mut measurements) {
        measurement.peak_rss_kib = sandbox.peak_rss_kib();
        sandbox.stop().await;
    }
    Ok(measurements)
}

/// The `p`-th percentile (0–100) by nearest rank; 0 for no samples.
pub(crate) fn percentile(samples: &[f64], p: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted
        .get(rank.min(sorted.len()) - 1)
        .copied()
        .unwrap_or_default()
}

pub(crate) fn median(samples: &[f64]) -> f64 {
    percentile(samples, 50.0)
}

pub(crate) fn min_max(samples: &[f64]) -> (f64, f64) {
    let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
    let max = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if samples.is_empty() {
        (0.0, 0.0)
    } else {
        (min, max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        assert!((percentile(&samples, 50.0) - 50.0).abs() < 1e-9);
        assert!((percentile(&samples, 99.0) - 99.0).abs() < 1e-9);
        assert!((percentile(&samples, 100.0) - 100.0).abs() < 1e-9);
        assert!((median(&[3.0, 1.0, 2.0]) - 2.0).abs() < 1e-9);
        assert!(percentile(&[], 50.0).abs() < 1e-9);
        assert_eq!(min_max(&[2.0, 5.0, 1.0]), (1.0, 5.0));
    }

    #[test]
    fn success_is_a_2xx_or_a_policy() {
        assert!(succeeded(&Outcome::Response(
            serde_json::json!({"statusCode": 201})
        )));
        assert!(!succeeded(&Outcome::Response(
            serde_json::json!({"statusCode": 500})
        )));
        assert!(succeeded(&Outcome::Response(
            serde_json::json!({"principalId": "x"})
        )));
        assert!(!succeeded(&Outcome::Error {
            error_type: "x".into(),
            error_message: "Unauthorized".into()
        }));
    }
}
