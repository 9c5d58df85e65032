//! EventBridge's part in a user's deletion, locally: the dev kit's moto appends the CloudTrail
//! event of each `AdminDeleteUser` to a file ([`CognitoLocal::deletions_file`]); this feed reads
//! every complete new line and invokes the real `purge` binary with it through the Lambda Runtime
//! API, one event at a time, as a rule on that event does in AWS. So `make dev` purges the data of
//! users deleted from its pool (`aws cognito-idp admin-delete-user`) as a deployed stack does.
//!
//! [`CognitoLocal::deletions_file`]: local_aws::CognitoLocal::deletions_file

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use local_lambda::runtime_api::{LambdaSandbox, Outcome};

/// How often the file is looked at: a deletion's data is gone well within a second.
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// The running feed; dropping it stops it.
#[derive(Debug)]
pub struct DeletionFeed {
    task: tokio::task::JoinHandle<()>,
    delivered: Arc<AtomicUsize>,
}

impl DeletionFeed {
    /// Starts delivering the events appended to `file` from now on (what it already holds was
    /// delivered by an earlier run, or predates this one) to `purge`.
    pub fn start(file: PathBuf, purge: LambdaSandbox) -> Self {
        let delivered = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&delivered);
        let start = std::fs::metadata(&file).map_or(0, |metadata| metadata.len());
        let task = tokio::spawn(async move {
            let mut offset = usize::try_from(start).unwrap_or(usize::MAX);
            loop {
                tokio::time::sleep(POLL_INTERVAL).await;
                let Ok(bytes) = tokio::fs::read(&file).await else {
                    continue; // no deletion yet
                };
                let Some(new) = bytes.get(offset..) else {
                    offset = 0; // the file was replaced: read it from the start
                    continue;
                };
                // Only complete lines: moto may be writing the next one.
                let Some(end) = new.iter().rposition(|byte| *byte == b'\n') else {
                    continue;
                };
                let complete = new.get(..=end).unwrap_or_default();
                offset += complete.len();
                for line in complete.split(|byte| *byte == b'\n') {
                    if line.is_empty() {
                        continue;
                    }
                    deliver(&purge, line).await;
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        Self { task, delivered }
    }

    /// How many deletion events the purge function was invoked with.
    pub fn delivered(&self) -> usize {
        self.delivered.load(Ordering::SeqCst)
    }
}

impl Drop for DeletionFeed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn deliver(purge: &LambdaSandbox, line: &[u8]) {
    let event: serde_json::Value = match serde_json::from_slice(line) {
        Ok(event) => event,
        Err(error) => {
            eprintln!("a recorded user deletion is not JSON ({error}): skipped");
            return;
        }
    };
    match purge
        .invoke(&event)
        .await
        .map(|invocation| invocation.outcome)
    {
        // On the terminal of `make dev`, as its other lines: a developer who deleted a user
        // sees what became of the data.
        Ok(Outcome::Response(report)) => {
            eprintln!("a user was deleted from the local pool; the purge function: {report}");
        }
        Ok(Outcome::Error {
            error_type,
            error_message,
        }) => eprintln!(
            "a user was deleted from the local pool, and the purge function failed \
             ({error_type}: {error_message}): the next deletion's purge retries it"
        ),
        Err(error) => eprintln!("the purge function could not be invoked: {error}"),
    }
}
