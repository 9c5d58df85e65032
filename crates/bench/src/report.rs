//! The benchmark's outputs: a Markdown table (stdout, `results.md`, the README), the same figures
//! as JSON (`results.json`), a chart (`chart.svg`), and the targets, each met or missed.

use std::fmt::Write as _;

use serde::Serialize;

use crate::capacity::Usage;
use crate::measure::{Measurement, median, min_max, percentile};

/// `POST /post` with `existing_posts` already on the board.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CostPoint {
    pub(crate) runtime: &'static str,
    pub(crate) existing_posts: u64,
    pub p50_ms: f64,
    pub(crate) capacity_units_per_post: f64,
    pub(crate) calls_per_post: f64,
    pub(crate) usage: Usage,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct LostPosts {
    pub(crate) runtime: &'static str,
    pub(crate) submitted: u64,
    /// Answered 201.
    pub(crate) acknowledged: u64,
    /// Found in the table afterwards.
    pub(crate) stored: u64,
}

impl LostPosts {
    pub(crate) fn lost(&self) -> u64 {
        self.acknowledged.saturating_sub(self.stored)
    }
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Target {
    pub(crate) target: String,
    pub(crate) measured: String,
    pub(crate) met: bool,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Results {
    pub(crate) taken_at: String,
    pub(crate) machine: String,
    pub(crate) cold_runs: usize,
    pub(crate) warm_runs: usize,
    pub(crate) measurements: Vec<Measurement>,
    pub(crate) cost_growth: Vec<CostPoint>,
    pub(crate) lost_posts: Vec<LostPosts>,
    pub(crate) targets: Vec<Target>,
}

const HTTP_FUNCTIONS: [&str; 3] = ["list", "createUpdate", "post"];
const MB: f64 = 1_000_000.0;

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    format!(
        "{cores} × {cpu}, {memory_gib:.0} GiB, {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

fn fmt_ms(value: f64) -> String {
    if value < 10.0 {
        format!("{value:.2} ms")
    } else if value < 100.0 {
        format!("{value:.1} ms")
    } else {
        format!("{value:.0} ms")
    }
}

fn fmt_bytes(bytes: Option<u64>) -> String {
    bytes.map_or("–".to_owned(), |b| format!("{:.2} MB", b as f64 / MB))
}

impl Results {
    pub(crate) fn new(
        cold_runs: usize,
        warm_runs: usize,
        measurements: Vec<Measurement>,
        cost_growth: Vec<CostPoint>,
        lost_posts: Vec<LostPosts>,
    ) -> Self {
        let mut results = Self {
            taken_at: notes_domain::Timestamp::now().to_string(),
            machine: machine(),
            cold_runs,
            warm_runs,
            measurements,
            cost_growth,
            lost_posts,
            targets: Vec::new(),
        };
        results.targets = results.evaluate();
        results
    }

    fn find(&self, function: &str, runtime: &str) -> Option<&Measurement> {
        self.measurements
            .iter()
            .find(|m| m.function == function && m.runtime == runtime)
    }

    fn evaluate(&self) -> Vec<Target> {
        let mut targets = Vec::new();
        let mut check = |target: String, measured: String, met: bool| {
            targets.push(Target {
                target,
                measured,
                met,
            });
        };
        for function in HTTP_FUNCTIONS {
            let (Some(ours), Some(python), Some(node)) = (
                self.find(function, "Rust"),
                self.find(function, "Python"),
                self.find(function, "Node"),
            ) else {
                continue;
            };
            let cold = median(&ours.cold_start_ms);
            for (baseline, factor) in [(python, 30.0), (node, 25.0)] {
                let ratio = median(&baseline.cold_start_ms) / cold;
                check(
                    format!(
                        "{function}: cold start ≥ {factor}× faster than {}",
                        baseline.runtime
                    ),
                    format!("{ratio:.1}×"),
                    ratio >= factor,
                );
            }
            for p in [50.0, 99.0] {
                let ratio = percentile(&ours.warm_ms, p) / percentile(&python.warm_ms, p);
                check(
                    format!("{function}: warm p{p} ≤ 0.5× Python's"),
                    format!("{ratio:.2}×"),
                    ratio <= 0.5,
                );
            }
            if let (Some(rss), Some(py), Some(js)) =
                (ours.peak_rss_kib, python.peak_rss_kib, node.peak_rss_kib)
            {
                let (rss, py, js) = (rss as f64, py as f64, js as f64);
                check(
                    format!("{function}: peak RSS ≤ 1/3 of Python's"),
                    format!("1/{:.1}", py / rss),
                    rss <= py / 3.0,
                );
                check(
                    format!("{function}: peak RSS ≤ 1/5 of Node's"),
                    format!("1/{:.1}", js / rss),
                    rss <= js / 5.0,
                );
            }
            if let Some(zip) = ours.zip_bytes {
                check(
                    format!("{function}: zip ≤ 4 MB"),
                    fmt_bytes(Some(zip)),
                    zip as f64 <= 4.0 * MB,
                );
            }
        }
        if let Some(zip) = self.find("dictate", "Rust").and_then(|d| d.zip_bytes) {
            check(
                "dictate: zip ≤ 4 MB".into(),
                fmt_bytes(Some(zip)),
                zip as f64 <= 4.0 * MB,
            );
        }
        if let (Some(authorizer), Some(hello)) =
            (self.find("authorizer", "Rust"), self.find("hello", "Rust"))
        {
            let ratio = median(&authorizer.cold_start_ms) / median(&hello.cold_start_ms);
            check(
                "authorizer: cold start within 1.3× of hello-world lambda_runtime".into(),
                format!("{ratio:.2}×"),
                ratio <= 1.3,
            );
            if let Some(zip) = authorizer.zip_bytes {
                check(
                    "authorizer: zip ≤ 1.5 MB".into(),
                    fmt_bytes(Some(zip)),
                    zip as f64 <= 1.5 * MB,
                );
            }
        }
        let ours_at = |posts: u64| {
            self.cost_growth
                .iter()
                .find(|c| c.runtime == "Rust" && c.existing_posts == posts)
        };
        if let (Some(small), Some(large)) = (ours_at(10), ours_at(10_000)) {
            let ratio = large.p50_ms / small.p50_ms;
            check(
                "post: p50 at 10,000 posts ≤ 1.2× at 10".into(),
                format!("{ratio:.2}×"),
                ratio <= 1.2,
            );
            let ratio = large.capacity_units_per_post / small.capacity_units_per_post;
            check(
                "post: consumed capacity at 10,000 posts ≤ 1.2× at 10".into(),
                format!("{ratio:.2}×"),
                ratio <= 1.2,
            );
        }
        if let Some(ours) = self.lost_posts.iter().find(|l| l.runtime == "Rust") {
            check(
                "post: no post lost under 100 concurrent writes".into(),
                format!("{} lost", ours.lost()),
                ours.lost() == 0 && ours.acknowledged == ours.submitted,
            );
        }
        targets
    }

    pub(crate) fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Taken {} on {}; {} fresh processes per cold start, {} warm invocations per function.\n",
            self.taken_at, self.machine, self.cold_runs, self.warm_runs
        );
        out.push_str("| Function | Runtime | Cold start median (min–max) | Init median | Warm p50 / p90 / p99 | Peak RSS | Binary | Zip |\n");
        out.push_str("|---|---|---|---|---|---|---|---|\n");
        for m in &self.measurements {
            let (low, high) = min_max(&m.cold_start_ms);
            let _ = writeln!(
                out,
                "| {} | {} | {} ({}–{}) | {} | {} / {} / {} | {} | {} | {} |",
                m.function,
                m.runtime,
                fmt_ms(median(&m.cold_start_ms)),
                fmt_ms(low),
                fmt_ms(high),
                fmt_ms(median(&m.init_ms)),
                fmt_ms(percentile(&m.warm_ms, 50.0)),
                fmt_ms(percentile(&m.warm_ms, 90.0)),
                fmt_ms(percentile(&m.warm_ms, 99.0)),
                m.peak_rss_kib.map_or("–".to_owned(), |kib| format!(
                    "{:.1} MiB",
                    kib as f64 / 1024.0
                )),
                fmt_bytes(m.binary_bytes),
                fmt_bytes(m.zip_bytes),
            );
        }
        out.push_str("\n**Cost growth of `POST /post`** (20 posts after a warm-up; capacity as DynamoDB Local reports it with `ReturnConsumedCapacity: TOTAL`):\n\n");
        out.push_str("| Existing posts | Implementation | p50 | Capacity units per post | DynamoDB calls per post |\n");
        out.push_str("|---|---|---|---|---|\n");
        for c in &self.cost_growth {
            let implementation = if c.runtime == "Rust" {
                "ours (atomic counter)"
            } else {
                "tutorial (Scan COUNT + 1), Python"
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.1} | {:.1} |",
                c.existing_posts,
                implementation,
                fmt_ms(c.p50_ms),
                c.capacity_units_per_post,
                c.calls_per_post
            );
        }
        out.push_str("\n**Posts lost** when 100 are submitted at once over 10 warm sandboxes:\n\n");
        out.push_str(
            "| Implementation | Acknowledged (201) | Stored | Lost |\n|---|---|---|---|\n",
        );
        for l in &self.lost_posts {
            let implementation = if l.runtime == "Rust" {
                "ours"
            } else {
                "tutorial, Python"
            };
            let _ = writeln!(
                out,
                "| {implementation} | {} of {} | {} | {} |",
                l.acknowledged,
                l.submitted,
                l.stored,
                l.lost()
            );
        }
        out.push_str("\n**Targets**\n\n| Target | Measured | Met |\n|---|---|---|\n");
        for t in &self.targets {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                t.target,
                t.measured,
                if t.met { "yes" } else { "**no**" }
            );
        }
        out
    }

    /// Three panels (cold start median, warm p50, peak RSS), one group of bars per function,
    /// one bar per runtime, each labelled with its value.
    pub(crate) fn svg(&self) -> String {
        type Metric<'a> = (&'a str, &'a str, Box<dyn Fn(&Measurement) -> Option<f64>>);
        let metrics: Vec<Metric> = vec![
            (
                "Cold start, median",
                "ms",
                Box::new(|m: &Measurement| Some(median(&m.cold_start_ms))),
            ),
            (
                "Warm latency, p50",
                "ms",
                Box::new(|m: &Measurement| Some(percentile(&m.warm_ms, 50.0))),
            ),
            (
                "Peak memory (RSS)",
                "MiB",
                Box::new(|m: &Measurement| m.peak_rss_kib.map(|kib| kib as f64 / 1024.0)),
            ),
        ];
        let colors = [
            ("Rust", "#dea584"),
            ("Python", "#3572a5"),
            ("Node", "#83cd29"),
        ];
        let (width, label_width, bar_height, gap) = (900.0, 110.0, 13.0, 10.0);
        let plot_width = width - label_width - 90.0;
        let functions: Vec<&str> = HTTP_FUNCTIONS.to_vec();
        let mut y = 50.0;
        let mut body = String::new();
        for (title, unit, value) in &metrics {
            let max = self
                .measurements
                .iter()
                .filter_map(value)
                .fold(0.0_f64, f64::max)
                .max(f64::MIN_POSITIVE);
            let _ = writeln!(
                body,
                r#"<text x="10" y="{y}" font-weight="bold">{title} ({unit}, lower is better)</text>"#
            );
            y += 10.0;
            for function in &functions {
                let group_top = y;
                for (runtime, color) in colors {
                    let Some(v) = self.find(function, runtime).and_then(value) else {
                        continue;
                    };
                    let w = (v / max * plot_width).max(1.0);
                    let _ = writeln!(
                        body,
                        r#"<rect x="{label_width}" y="{y}" width="{w:.1}" height="{bar_height}" fill="{color}"/><text x="{:.1}" y="{:.1}" font-size="11">{}</text>"#,
                        label_width + w + 4.0,
                        y + bar_height - 2.0,
                        if v < 10.0 {
                            format!("{v:.2}")
                        } else {
                            format!("{v:.0}")
                        }
                    );
                    y += bar_height + 2.0;
                }
                let _ = writeln!(
                    body,
                    r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="12">{function}</text>"#,
                    label_width - 8.0,
                    (group_top + y) / 2.0 + 4.0
                );
                y += gap;
            }
            y += 20.0;
        }
        let mut legend = String::new();
        for (i, (runtime, color)) in colors.iter().enumerate() {
            let x = label_width + i as f64 * 170.0;
            let name = match *runtime {
                "Rust" => "Rust (this project)",
                "Python" => "Python 3.11 + boto3",
                _ => "Node 20 + SDK v3",
            };
            let _ = writeln!(
                legend,
                r#"<rect x="{x}" y="14" width="12" height="12" fill="{color}"/><text x="{}" y="24" font-size="12">{name}</text>"#,
                x + 16.0
            );
        }
        format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0}" font-family="sans-serif" font-size="13">
<rect width="100%" height="100%" fill="white"/>
{legend}{body}<text x="10" y="{footer:.0}" font-size="11" fill="#555">{machine}, {taken}; the same Lambda Runtime API emulator and DynamoDB Local for all.</text>
</svg>
"##,
            height = y + 30.0,
            footer = y + 10.0,
            machine = self.machine,
            taken = self.taken_at,
        )
    }
}
