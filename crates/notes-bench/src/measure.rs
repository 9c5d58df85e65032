//! Running function implementations through the Lambda Runtime API emulator: fresh processes
//! for cold starts, one warm process each for latency, own time and memory.

use std::path::PathBuf;
use std::time::Duration;

use notes_devkit::runtime_api::{Invocation, LambdaSandbox, Outcome};
use serde_json::Value;

use crate::proxy::{RecordingProxy, Usage};

/// One implementation of one function, ready to be started.
#[derive(Debug, Clone)]
pub(crate) struct Subject {
    /// `list`, `createUpdate`, `post`, `dictate`, `authorizer`, `hello`.
    pub(crate) function: &'static str,
    /// `Rust`, `Python`, `Node`.
    pub(crate) runtime: &'static str,
    /// What sets this subject apart from another of the same function and runtime (the
    /// DynamoDB connection opened at init or not); empty for most.
    pub(crate) variant: &'static str,
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
        if self.variant.is_empty() {
            format!("{} ({})", self.function, self.runtime)
        } else {
            format!("{} ({}, {})", self.function, self.runtime, self.variant)
        }
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

/// Cold starts of one subject: one sample per fresh process.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct ColdSamples {
    /// Spawn to first result posted, in ms: init plus the first invocation.
    pub(crate) cold_start_ms: Vec<f64>,
    /// Spawn to first `GET /next`, in ms.
    pub(crate) init_ms: Vec<f64>,
    /// The first invocation's handler duration (event handed out to result posted), in ms.
    pub(crate) first_invocation_ms: Vec<f64>,
}

/// Warm invocations of one subject, one process.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct WarmSamples {
    /// Handler durations (event handed out to result posted), in ms.
    pub(crate) duration_ms: Vec<f64>,
    /// Of each, the time spent behind the recording proxies (DynamoDB, S3, Polly), in ms.
    pub(crate) services_ms: Vec<f64>,
    /// DynamoDB calls and capacity over all of them.
    pub(crate) usage: Usage,
    pub(crate) peak_rss_kib: Option<u64>,
}

impl WarmSamples {
    /// The function's own time per invocation: its duration less the time behind the proxies.
    pub(crate) fn own_ms(&self) -> Vec<f64> {
        self.duration_ms
            .iter()
            .zip(&self.services_ms)
            .map(|(duration, services)| (duration - services).max(0.0))
            .collect()
    }

    /// Each duration as Lambda bills it: rounded up to the next millisecond.
    pub(crate) fn billed_ms(&self) -> Vec<f64> {
        self.duration_ms
            .iter()
            .map(|ms| ms.ceil().max(1.0))
            .collect()
    }
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
const WARM_BLOCK: usize = 50;

/// Cold starts of every subject, interleaved: round `i` of every subject before round `i + 1`
/// of any, so that whatever the shared machine does meanwhile lands on all alike.
pub(crate) async fn measure_cold(
    subjects: &[&Subject],
    runs: usize,
) -> Result<Vec<ColdSamples>, String> {
    let mut samples = vec![ColdSamples::default(); subjects.len()];
    eprintln!(
        "cold starts: {runs} rounds over {} subjects",
        subjects.len()
    );
    for _ in 0..runs {
        for (subject, samples) in subjects.iter().zip(&mut samples) {
            let sandbox = subject.start().await?;
            let first = subject.invoke(&sandbox).await?;
            samples
                .cold_start_ms
                .push(sandbox.cold_start().map(ms).unwrap_or_default());
            samples
                .init_ms
                .push(sandbox.init_duration().map(ms).unwrap_or_default());
            samples.first_invocation_ms.push(ms(first.duration));
            sandbox.stop().await;
        }
    }
    Ok(samples)
}

/// Warm invocations of every subject, one process each, in blocks taken in turn: whatever the
/// shared DynamoDB Local does meanwhile (a garbage collection, a late JIT compilation) lands on
/// all implementations alike instead of on whichever happened to be measured at that moment.
/// One invocation runs at a time, so what the `proxies` recorded meanwhile is that
/// invocation's.
pub(crate) async fn measure_warm(
    subjects: &[&Subject],
    runs: usize,
    proxies: &[&RecordingProxy],
) -> Result<Vec<WarmSamples>, String> {
    let mut samples = vec![WarmSamples::default(); subjects.len()];
    eprintln!(
        "warm invocations: {runs} per subject, in blocks of {WARM_BLOCK}, over {} subjects",
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
    for proxy in proxies {
        proxy.take();
    }
    let mut done = 0;
    while done < runs {
        let block = WARM_BLOCK.min(runs - done);
        for ((subject, sandbox), samples) in subjects.iter().zip(&sandboxes).zip(&mut samples) {
            for _ in 0..block {
                let invocation = subject.invoke(sandbox).await?;
                let mut services = Duration::ZERO;
                for proxy in proxies {
                    let recorded = proxy.take();
                    services += recorded.busy;
                    samples.usage.add(&recorded.usage);
                }
                samples.duration_ms.push(ms(invocation.duration));
                samples.services_ms.push(ms(services));
            }
        }
        done += block;
    }
    for (sandbox, samples) in sandboxes.into_iter().zip(&mut samples) {
        samples.peak_rss_kib = sandbox.peak_rss_kib();
        sandbox.stop().await;
    }
    Ok(samples)
}

/// The mean of `samples`; 0 for none.
pub(crate) fn mean(samples: &[f64]) -> f64 {
    if samples.is_empty() {
        0.0
    } else {
        samples.iter().sum::<f64>() / samples.len() as f64
    }
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
