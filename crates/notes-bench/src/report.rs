//! The benchmark's outputs: a Markdown table (stdout, `results.md`, docs/benchmarks.md), the same figures
//! as JSON (`results.json`), a chart (`chart.svg`), the bill of a million requests, and the
//! targets, each met or missed.

use std::fmt::Write as _;

use serde::Serialize;

use crate::measure::{ColdSamples, WarmSamples, mean, median, min_max, percentile};
use crate::proxy::Usage;

/// One implementation of one function: its cold starts over plain HTTP and over TLS, its warm
/// invocations over TLS, its sizes.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Measurement {
    pub(crate) function: &'static str,
    pub(crate) runtime: &'static str,
    /// Cold starts with DynamoDB Local over plain HTTP (as the benchmark measured until now).
    pub(crate) plain: ColdSamples,
    /// Cold starts with every service behind a TLS endpoint, as in AWS.
    pub(crate) tls: ColdSamples,
    /// Warm invocations, over TLS, with the time spent behind the recording proxies.
    pub(crate) warm: WarmSamples,
    pub(crate) binary_bytes: Option<u64>,
    pub(crate) zip_bytes: Option<u64>,
}

/// One of our DynamoDB functions over TLS, with the connection opened at init and without.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WarmUpComparison {
    pub(crate) function: &'static str,
    pub(crate) at_init: ColdSamples,
    pub(crate) by_first_request: ColdSamples,
}

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

/// What a million warm requests of one subject cost, from its measured billed durations.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Bill {
    pub(crate) function: &'static str,
    pub(crate) runtime: &'static str,
    /// Mean of the warm durations, each rounded up to 1 ms as Lambda bills them.
    pub(crate) mean_billed_ms: f64,
    pub(crate) lambda_x86_64_usd: f64,
    pub(crate) lambda_arm64_usd: f64,
    pub(crate) read_units_per_request: f64,
    pub(crate) write_units_per_request: f64,
    pub(crate) dynamodb_on_demand_usd: f64,
}

/// The price table the bill uses, and where it comes from.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Prices {
    pub(crate) source: &'static str,
    pub(crate) memory_mb: f64,
    pub(crate) request_usd_per_million: f64,
    pub(crate) x86_64_usd_per_gb_second: f64,
    pub(crate) arm64_usd_per_gb_second: f64,
    pub(crate) write_request_unit_usd_per_million: f64,
    pub(crate) read_request_unit_usd_per_million: f64,
}

/// us-east-1 list prices, first tier. Written down here from the published tables rather than
/// fetched: the figures below are copied, with their date, into every report.
pub(crate) const PRICES: Prices = Prices {
    source: "us-east-1 list prices as published (Lambda: first duration tier, 1 ms billing; DynamoDB: on-demand, Standard table class, since the 2024-11-01 cut), checked on 2026-12-03 against stored copies of AWS's pricing pages and third-party summaries of them, not against a live AWS page; free tiers, Savings Plans, taxes and data transfer left out",
    memory_mb: 128.0,
    request_usd_per_million: 0.20,
    x86_64_usd_per_gb_second: 0.000_016_666_7,
    arm64_usd_per_gb_second: 0.000_013_333_4,
    write_request_unit_usd_per_million: 0.625,
    read_request_unit_usd_per_million: 0.125,
};

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Results {
    pub(crate) taken_at: String,
    pub(crate) machine: String,
    pub(crate) cold_runs: usize,
    pub(crate) warm_runs: usize,
    pub(crate) measurements: Vec<Measurement>,
    pub(crate) init_warm_up: Vec<WarmUpComparison>,
    pub(crate) prices: Prices,
    pub(crate) bills: Vec<Bill>,
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

fn fmt_usd(value: f64) -> String {
    if value < 1.0 {
        format!("${value:.3}")
    } else {
        format!("${value:.2}")
    }
}

fn percentiles(samples: &[f64]) -> String {
    format!(
        "{} / {} / {}",
        fmt_ms(percentile(samples, 50.0)),
        fmt_ms(percentile(samples, 90.0)),
        fmt_ms(percentile(samples, 99.0))
    )
}

fn bill(m: &Measurement) -> Bill {
    let prices = &PRICES;
    let requests = 1_000_000.0;
    let mean_billed_ms = mean(&m.warm.billed_ms());
    let gb_seconds = requests * mean_billed_ms / 1_000.0 * prices.memory_mb / 1024.0;
    let request_charge = prices.request_usd_per_million * requests / 1_000_000.0;
    let invocations = m.warm.duration_ms.len().max(1) as f64;
    let (read, write) = m.warm.usage.read_write_capacity();
    let (read, write) = (read / invocations, write / invocations);
    Bill {
        function: m.function,
        runtime: m.runtime,
        mean_billed_ms,
        lambda_x86_64_usd: request_charge + gb_seconds * prices.x86_64_usd_per_gb_second,
        lambda_arm64_usd: request_charge + gb_seconds * prices.arm64_usd_per_gb_second,
        read_units_per_request: read,
        write_units_per_request: write,
        dynamodb_on_demand_usd: read * prices.read_request_unit_usd_per_million
            + write * prices.write_request_unit_usd_per_million,
    }
}

impl Results {
    pub(crate) fn new(
        cold_runs: usize,
        warm_runs: usize,
        measurements: Vec<Measurement>,
        init_warm_up: Vec<WarmUpComparison>,
        cost_growth: Vec<CostPoint>,
        lost_posts: Vec<LostPosts>,
    ) -> Self {
        let bills = measurements.iter().map(bill).collect();
        let mut results = Self {
            taken_at: notes_domain::Timestamp::now().to_string(),
            machine: machine(),
            cold_runs,
            warm_runs,
            measurements,
            init_warm_up,
            prices: PRICES,
            bills,
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
            let cold = median(&ours.tls.cold_start_ms);
            for (baseline, factor) in [(python, 30.0), (node, 25.0)] {
                let ratio = median(&baseline.tls.cold_start_ms) / cold;
                check(
                    format!(
                        "{function}: cold start (TLS) ≥ {factor}× faster than {}",
                        baseline.runtime
                    ),
                    format!("{ratio:.1}×"),
                    ratio >= factor,
                );
            }
            let (own, theirs) = (ours.warm.own_ms(), python.warm.own_ms());
            for (p, share) in [(50.0, 5.0), (99.0, 3.0)] {
                let ratio = percentile(&own, p) / percentile(&theirs, p);
                check(
                    format!("{function}: own time p{p} ≤ 1/{share} of Python's"),
                    format!("1/{:.1}", 1.0 / ratio),
                    ratio <= 1.0 / share,
                );
            }
            if let (Some(rss), Some(py), Some(js)) = (
                ours.warm.peak_rss_kib,
                python.warm.peak_rss_kib,
                node.warm.peak_rss_kib,
            ) {
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
            let ratio = median(&authorizer.tls.cold_start_ms) / median(&hello.tls.cold_start_ms);
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

    /// The cold-start ratio of `function` against a baseline, TLS run: "46.2× / 39.0×".
    fn cold_ratios(&self, m: &Measurement) -> String {
        if m.runtime != "Rust" {
            return "–".to_owned();
        }
        let ours = median(&m.tls.cold_start_ms);
        let ratio = |runtime: &str| {
            self.find(m.function, runtime).map_or("–".to_owned(), |b| {
                format!("{:.1}×", median(&b.tls.cold_start_ms) / ours)
            })
        };
        format!("{} / {}", ratio("Python"), ratio("Node"))
    }

    pub(crate) fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Taken {} on {}; {} fresh processes per cold start and way, {} warm invocations per function (over TLS, interleaved).\n",
            self.taken_at, self.machine, self.cold_runs, self.warm_runs
        );
        out.push_str("**Cold start** (process start to first response: init and the first invocation; median, min–max), over plain HTTP to DynamoDB Local and over TLS as in AWS, and how many times faster ours is than Python / Node over TLS:\n\n");
        out.push_str("| Function | Runtime | Plain HTTP | Plain: init / first invocation | TLS | TLS: init / first invocation | Faster than Python / Node (TLS) |\n");
        out.push_str("|---|---|---|---|---|---|---|\n");
        for m in &self.measurements {
            let (plain_low, plain_high) = min_max(&m.plain.cold_start_ms);
            let (low, high) = min_max(&m.tls.cold_start_ms);
            let _ = writeln!(
                out,
                "| {} | {} | {} ({}–{}) | {} / {} | {} ({}–{}) | {} / {} | {} |",
                m.function,
                m.runtime,
                fmt_ms(median(&m.plain.cold_start_ms)),
                fmt_ms(plain_low),
                fmt_ms(plain_high),
                fmt_ms(median(&m.plain.init_ms)),
                fmt_ms(median(&m.plain.first_invocation_ms)),
                fmt_ms(median(&m.tls.cold_start_ms)),
                fmt_ms(low),
                fmt_ms(high),
                fmt_ms(median(&m.tls.init_ms)),
                fmt_ms(median(&m.tls.first_invocation_ms)),
                self.cold_ratios(m),
            );
        }
        out.push_str("\n**Warm invocations** over TLS: the handler's duration as Lambda bills it (event handed out to result posted), and the function's own time, that duration less the time its DynamoDB (and, for dictate, S3) calls spent behind the recording proxy; p50 / p90 / p99:\n\n");
        out.push_str("| Function | Runtime | Duration | Own time | Own time vs Python's (p50 / p99) | Peak RSS | Binary | Zip |\n");
        out.push_str("|---|---|---|---|---|---|---|---|\n");
        for m in &self.measurements {
            let own = m.warm.own_ms();
            let versus = match (m.runtime, self.find(m.function, "Python")) {
                ("Rust", Some(python)) => {
                    let theirs = python.warm.own_ms();
                    format!(
                        "1/{:.1} / 1/{:.1}",
                        percentile(&theirs, 50.0) / percentile(&own, 50.0),
                        percentile(&theirs, 99.0) / percentile(&own, 99.0)
                    )
                }
                _ => "–".to_owned(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                m.function,
                m.runtime,
                percentiles(&m.warm.duration_ms),
                percentiles(&own),
                versus,
                m.warm.peak_rss_kib.map_or("–".to_owned(), |kib| format!(
                    "{:.1} MiB",
                    kib as f64 / 1024.0
                )),
                fmt_bytes(m.binary_bytes),
                fmt_bytes(m.zip_bytes),
            );
        }
        if !self.init_warm_up.is_empty() {
            out.push_str("\n**The DynamoDB connection opened at init** (`DYNAMODB_CONNECT_AT_INIT`), ours over TLS, medians:\n\n");
            out.push_str("| Function | Connection opened | Init | First invocation | Cold start (total) |\n|---|---|---|---|---|\n");
            for w in &self.init_warm_up {
                for (how, samples) in [
                    ("at init", &w.at_init),
                    ("by the first request", &w.by_first_request),
                ] {
                    let _ = writeln!(
                        out,
                        "| {} | {how} | {} | {} | {} |",
                        w.function,
                        fmt_ms(median(&samples.init_ms)),
                        fmt_ms(median(&samples.first_invocation_ms)),
                        fmt_ms(median(&samples.cold_start_ms)),
                    );
                }
            }
        }
        let prices = &self.prices;
        let _ = writeln!(
            out,
            "\n**The bill of 1 million warm requests** at {} MB: Lambda's request charge (${:.2} per million) plus duration from the mean measured billed duration (each warm invocation rounded up to 1 ms) at ${} per GB-s on x86_64 and ${} on arm64 (the durations measured here, on x86_64, for both); DynamoDB on-demand at ${} per million read and ${} per million write request units, from the capacity units the recording proxy saw per request. Prices: {}.\n",
            prices.memory_mb,
            prices.request_usd_per_million,
            prices.x86_64_usd_per_gb_second,
            prices.arm64_usd_per_gb_second,
            prices.read_request_unit_usd_per_million,
            prices.write_request_unit_usd_per_million,
            prices.source
        );
        out.push_str("| Function | Runtime | Mean billed duration | Lambda, x86_64 | Lambda, arm64 | DynamoDB read / write units per request | DynamoDB on-demand |\n");
        out.push_str("|---|---|---|---|---|---|---|\n");
        for b in &self.bills {
            let _ = writeln!(
                out,
                "| {} | {} | {:.2} ms | {} | {} | {:.2} / {:.2} | {} |",
                b.function,
                b.runtime,
                b.mean_billed_ms,
                fmt_usd(b.lambda_x86_64_usd),
                fmt_usd(b.lambda_arm64_usd),
                b.read_units_per_request,
                b.write_units_per_request,
                fmt_usd(b.dynamodb_on_demand_usd),
            );
        }
        if !self.cost_growth.is_empty() {
            out.push_str("\n**Cost growth of `POST /post`** (20 posts after a warm-up; capacity as DynamoDB Local reports it with `ReturnConsumedCapacity: TOTAL`):\n\n");
            out.push_str("| Existing posts | Implementation | p50 | Capacity units per post | DynamoDB calls per post |\n");
            out.push_str("|---|---|---|---|---|\n");
        }
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
        if !self.lost_posts.is_empty() {
            out.push_str(
                "\n**Posts lost** when 100 are submitted at once over 10 warm sandboxes:\n\n",
            );
            out.push_str(
                "| Implementation | Acknowledged (201) | Stored | Lost |\n|---|---|---|---|\n",
            );
        }
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

    /// Three panels (cold start median over TLS, own time p50, peak RSS), one group of bars per
    /// function, one bar per runtime, each labelled with its value.
    pub(crate) fn svg(&self) -> String {
        type Metric<'a> = (&'a str, &'a str, Box<dyn Fn(&Measurement) -> Option<f64>>);
        let metrics: Vec<Metric> = vec![
            (
                "Cold start over TLS, median",
                "ms",
                Box::new(|m: &Measurement| Some(median(&m.tls.cold_start_ms))),
            ),
            (
                "Own time (warm, less DynamoDB), p50",
                "ms",
                Box::new(|m: &Measurement| Some(percentile(&m.warm.own_ms(), 50.0))),
            ),
            (
                "Peak memory (RSS)",
                "MiB",
                Box::new(|m: &Measurement| m.warm.peak_rss_kib.map(|kib| kib as f64 / 1024.0)),
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
