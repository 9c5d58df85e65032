//! Moves the items that versions before issue 22 keyed by a Cognito username to the user's
//! permanent `sub`, using the pool's user list (`aws cognito-idp list-users` JSON).
//!
//! - Notes: an item under `UserId = <username>` is moved to `UserId = <sub>` with one
//!   `TransactWriteItems` (put under the sub if nothing is there, delete the old item if it is
//!   still there), so each note is either moved or left as it was: an interrupted run loses and
//!   duplicates nothing, and running again moves what is left (idempotent, resumable). A note
//!   whose new key is already taken (written after the deploy) is left in place and reported.
//! - Posts: `authorId = <sub>` is added to a post whose `author` is a user of the pool; a post
//!   whose author is no longer in the pool is shown as "deleted user" from then on, since its
//!   name may be signed up again by someone else.
//! - Idempotency records are keyed by a hash of (caller, key) and expire within their window (one
//!   hour by default): they are not moved. Audio is a cache whose keys changed too: old objects
//!   expire by the bucket's lifecycle rule. Cursors issued before the deploy are refused (400);
//!   a client starts again from the first page.
//!
//! Nothing is written without `--apply`: the default is a dry run that reports what would move.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use serde::{Deserialize, Serialize};

/// What a post's author becomes when the account that wrote it no longer exists.
pub const DELETED_USER: &str = "deleted user";

/// Conflicts listed by key in the report; the count goes on beyond.
const MAX_LISTED_CONFLICTS: usize = 100;

pub const USAGE: &str = "\
usage: notes-migrate --users <list-users.json> --notes-table <name> [--posts-table <name>]
                     [--apply] [--limit <n>]

  --users        the pool's users, as `aws cognito-idp list-users --user-pool-id <id> --output json`
                 writes them (the CLI follows every page itself)
  --notes-table  the NotesTable of the stack (stack output NotesTableName)
  --posts-table  the PostsTable of the stack (stack output PostsTableName); optional
  --apply        write; without it nothing is written (dry run) and the report says what would be
  --limit <n>    stop after <n> writes (a run in steps; running again goes on where it stopped)

DynamoDB is reached with the usual AWS environment (AWS_PROFILE or credentials, AWS_REGION;
AWS_ENDPOINT_URL_DYNAMODB for DynamoDB Local). The report is JSON on standard output.";

/// The command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arguments {
    pub users_file: PathBuf,
    pub notes_table: String,
    pub posts_table: Option<String>,
    pub apply: bool,
    pub limit: Option<u64>,
}

impl Arguments {
    pub fn parse(mut arguments: impl Iterator<Item = String>) -> Result<Self, String> {
        let (mut users_file, mut notes_table, mut posts_table) = (None, None, None);
        let (mut apply, mut limit) = (false, None);
        while let Some(argument) = arguments.next() {
            let mut value = |name: &str| {
                arguments
                    .next()
                    .filter(|value| !value.trim().is_empty())
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            match argument.as_str() {
                "--users" => users_file = Some(PathBuf::from(value("--users")?)),
                "--notes-table" => notes_table = Some(value("--notes-table")?),
                "--posts-table" => posts_table = Some(value("--posts-table")?),
                "--apply" => apply = true,
                "--limit" => {
                    let text = value("--limit")?;
                    limit =
                        Some(text.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                            format!("--limit must be a positive number, not {text}")
                        })?);
                }
                other => return Err(format!("unknown argument {other}")),
            }
        }
        Ok(Self {
            users_file: users_file.ok_or("--users is required")?,
            notes_table: notes_table.ok_or("--notes-table is required")?,
            posts_table,
            apply,
            limit,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("cannot read the user list {path}")]
    ReadUsers {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the user list is not the JSON of `aws cognito-idp list-users`")]
    ParseUsers(#[source] serde_json::Error),
    #[error("user {0:?} of the user list has no sub attribute")]
    UserWithoutSub(String),
    #[error("DynamoDB {operation} on table {table} failed")]
    DynamoDb {
        operation: &'static str,
        table: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// The pool's users: username -> sub, and every sub.
#[derive(Debug, Default, Clone)]
pub struct Users {
    sub_of: HashMap<String, String>,
    subs: HashSet<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListUsers {
    users: Vec<ListedUser>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListedUser {
    username: String,
    #[serde(default)]
    attributes: Vec<ListedAttribute>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListedAttribute {
    name: String,
    #[serde(default)]
    value: String,
}

impl Users {
    /// Reads `aws cognito-idp list-users` output.
    pub fn from_list_users_json(json: &str) -> Result<Self, MigrateError> {
        let listed: ListUsers = serde_json::from_str(json).map_err(MigrateError::ParseUsers)?;
        let mut users = Self::default();
        for user in listed.users {
            let sub = user
                .attributes
                .into_iter()
                .find(|attribute| attribute.name == "sub" && !attribute.value.is_empty())
                .ok_or_else(|| MigrateError::UserWithoutSub(user.username.clone()))?
                .value;
            users.subs.insert(sub.clone());
            users.sub_of.insert(user.username, sub);
        }
        Ok(users)
    }

    /// What an item's owner attribute holds: already a sub, a username to move, or neither.
    fn classify(&self, owner: &str) -> Owner<'_> {
        if self.subs.contains(owner) {
            Owner::Sub
        } else if let Some(sub) = self.sub_of.get(owner) {
            Owner::Username(sub)
        } else {
            Owner::Unknown
        }
    }
}

enum Owner<'a> {
    Sub,
    Username(&'a str),
    Unknown,
}

/// What happened to the notes (in a dry run: what would).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct NoteCounts {
    pub scanned: u64,
    /// Keyed by a username of the pool: moved (with `--apply`) or to move (dry run).
    pub moved: u64,
    pub already_keyed_by_sub: u64,
    /// Keyed by a name that is neither a user nor a sub of the pool (a deleted account): left.
    pub unknown_owner: u64,
    /// The sub already has a note of that id (written after the deploy): the old one is left.
    pub conflicts: u64,
    /// (username, NoteId) of the first conflicts.
    pub conflict_keys: Vec<(String, String)>,
}

/// What happened to the posts (in a dry run: what would).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct PostCounts {
    pub scanned: u64,
    /// Given the `authorId` of their author.
    pub linked: u64,
    pub already_linked: u64,
    /// Written by an account no longer in the pool: shown as "deleted user".
    pub author_deleted: u64,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub dry_run: bool,
    /// `--limit` was reached: run again to go on.
    pub stopped_at_limit: bool,
    pub notes: NoteCounts,
    pub posts: PostCounts,
}

fn dynamodb_error<E>(operation: &'static str, table: &str) -> impl FnOnce(E) -> MigrateError
where
    E: std::error::Error + Send + Sync + 'static,
{
    let table = table.to_owned();
    move |source| MigrateError::DynamoDb {
        operation,
        table,
        source: Box::new(source),
    }
}

type Item = HashMap<String, AttributeValue>;

/// Reads the user list and runs the migration (or its dry run) as `arguments` say.
pub async fn migrate(client: &Client, arguments: &Arguments) -> Result<Report, MigrateError> {
    let json = std::fs::read_to_string(&arguments.users_file).map_err(|source| {
        MigrateError::ReadUsers {
            path: arguments.users_file.clone(),
            source,
        }
    })?;
    let users = Users::from_list_users_json(&json)?;
    let mut run = Run {
        client,
        users: &users,
        apply: arguments.apply,
        writes_left: arguments.limit,
        report: Report {
            dry_run: !arguments.apply,
            ..Report::default()
        },
    };
    run.notes(&arguments.notes_table).await?;
    if let Some(posts_table) = &arguments.posts_table {
        run.posts(posts_table).await?;
    }
    Ok(run.report)
}

struct Run<'a> {
    client: &'a Client,
    users: &'a Users,
    apply: bool,
    writes_left: Option<u64>,
    report: Report,
}

impl Run<'_> {
    /// Counts one write against `--limit`; false once the limit is spent.
    fn may_write(&mut self) -> bool {
        match &mut self.writes_left {
            None => true,
            Some(0) => {
                self.report.stopped_at_limit = true;
                false
            }
            Some(left) => {
                *left -= 1;
                true
            }
        }
    }

    async fn scan_page(
        &self,
        table: &str,
        start: Option<Item>,
    ) -> Result<(Vec<Item>, Option<Item>), MigrateError> {
        let page = self
            .client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(dynamodb_error("Scan", table))?;
        Ok((page.items.unwrap_or_default(), page.last_evaluated_key))
    }

    async fn notes(&mut self, table: &str) -> Result<(), MigrateError> {
        let mut start = None;
        loop {
            let (items, next) = self.scan_page(table, start).await?;
            for item in items {
                self.report.notes.scanned += 1;
                let Some(AttributeValue::S(owner)) = item.get("UserId") else {
                    self.report.notes.unknown_owner += 1;
                    continue;
                };
                match self.users.classify(owner) {
                    Owner::Sub => self.report.notes.already_keyed_by_sub += 1,
                    Owner::Unknown => self.report.notes.unknown_owner += 1,
                    Owner::Username(sub) => {
                        if !self.may_write() {
                            return Ok(());
                        }
                        let (owner, sub) = (owner.clone(), sub.to_owned());
                        if self.apply {
                            self.move_note(table, item, &owner, &sub).await?;
                        } else {
                            self.report.notes.moved += 1;
                        }
                    }
                }
            }
            match next {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(()),
            }
        }
    }

    /// One note from its username key to its sub key, atomically.
    async fn move_note(
        &mut self,
        table: &str,
        item: Item,
        username: &str,
        sub: &str,
    ) -> Result<(), MigrateError> {
        let Some(note_id) = item.get("NoteId").cloned() else {
            self.report.notes.unknown_owner += 1;
            return Ok(());
        };
        let mut moved = item;
        moved.insert("UserId".into(), AttributeValue::S(sub.to_owned()));
        let put = Put::builder()
            .table_name(table)
            .set_item(Some(moved))
            .condition_expression("attribute_not_exists(UserId)")
            .build()
            .map_err(dynamodb_error("TransactWriteItems", table))?;
        let delete = Delete::builder()
            .table_name(table)
            .key("UserId", AttributeValue::S(username.to_owned()))
            .key("NoteId", note_id.clone())
            .condition_expression("attribute_exists(UserId)")
            .build()
            .map_err(dynamodb_error("TransactWriteItems", table))?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(TransactWriteItem::builder().delete(delete).build())
            .send()
            .await;
        match result {
            Ok(_) => self.report.notes.moved += 1,
            Err(SdkError::ServiceError(failure)) => {
                let TransactWriteItemsError::TransactionCanceledException(canceled) = failure.err()
                else {
                    return Err(dynamodb_error("TransactWriteItems", table)(
                        SdkError::ServiceError(failure),
                    ));
                };
                let failed = |index: usize| {
                    canceled
                        .cancellation_reasons()
                        .get(index)
                        .and_then(|reason| reason.code())
                        == Some("ConditionalCheckFailed")
                };
                if failed(0) {
                    self.report.notes.conflicts += 1;
                    if self.report.notes.conflict_keys.len() < MAX_LISTED_CONFLICTS {
                        let id = match note_id {
                            AttributeValue::S(id) => id,
                            other => format!("{other:?}"),
                        };
                        self.report
                            .notes
                            .conflict_keys
                            .push((username.to_owned(), id));
                    }
                } else if failed(1) {
                    // Gone since the scan read it (another run moved it, or its user deleted it).
                    self.report.notes.already_keyed_by_sub += 1;
                } else {
                    return Err(MigrateError::DynamoDb {
                        operation: "TransactWriteItems",
                        table: table.to_owned(),
                        source: Box::new(canceled.clone()),
                    });
                }
            }
            Err(other) => return Err(dynamodb_error("TransactWriteItems", table)(other)),
        }
        Ok(())
    }

    async fn posts(&mut self, table: &str) -> Result<(), MigrateError> {
        let mut start = None;
        loop {
            let (items, next) = self.scan_page(table, start).await?;
            for item in items {
                // The id counter (shard 0, id 0) is not a post.
                let Some(AttributeValue::S(author)) = item.get("author") else {
                    continue;
                };
                self.report.posts.scanned += 1;
                if item.contains_key("authorId") || author == DELETED_USER {
                    self.report.posts.already_linked += 1;
                    continue;
                }
                let (Some(shard), Some(id)) = (item.get("shard"), item.get("id")) else {
                    continue;
                };
                let sub = match self.users.classify(author) {
                    Owner::Username(sub) => Some(sub.to_owned()),
                    Owner::Sub | Owner::Unknown => None,
                };
                if !self.may_write() {
                    return Ok(());
                }
                if !self.apply {
                    match sub {
                        Some(_) => self.report.posts.linked += 1,
                        None => self.report.posts.author_deleted += 1,
                    }
                    continue;
                }
                let update = self
                    .client
                    .update_item()
                    .table_name(table)
                    .key("shard", shard.clone())
                    .key("id", id.clone())
                    .condition_expression("attribute_not_exists(authorId) AND author = :name")
                    .expression_attribute_values(":name", AttributeValue::S(author.clone()));
                let update = match &sub {
                    Some(sub) => update
                        .update_expression("SET authorId = :sub")
                        .expression_attribute_values(":sub", AttributeValue::S(sub.clone())),
                    None => update
                        .update_expression("SET author = :deleted")
                        .expression_attribute_values(
                            ":deleted",
                            AttributeValue::S(DELETED_USER.to_owned()),
                        ),
                };
                match update.send().await {
                    Ok(_) if sub.is_some() => self.report.posts.linked += 1,
                    Ok(_) => self.report.posts.author_deleted += 1,
                    Err(SdkError::ServiceError(failure))
                        if matches!(
                            failure.err(),
                            UpdateItemError::ConditionalCheckFailedException(_)
                        ) =>
                    {
                        self.report.posts.already_linked += 1;
                    }
                    Err(other) => return Err(dynamodb_error("UpdateItem", table)(other)),
                }
            }
            match next {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Arguments, String> {
        Arguments::parse(list.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn a_dry_run_unless_told_to_apply() {
        let parsed = args(&["--users", "u.json", "--notes-table", "n"]).unwrap();
        assert!(!parsed.apply, "dry run by default");
        assert_eq!(parsed.limit, None);
        let parsed = args(&[
            "--users",
            "u.json",
            "--notes-table",
            "n",
            "--posts-table",
            "p",
            "--apply",
            "--limit",
            "5",
        ])
        .unwrap();
        assert_eq!((parsed.apply, parsed.limit), (true, Some(5)));
        assert_eq!(parsed.posts_table.as_deref(), Some("p"));
        for (bad, why) in [
            (vec!["--notes-table", "n"], "no user list"),
            (vec!["--users", "u.json"], "no notes table"),
            (
                vec!["--users", "u", "--notes-table", "n", "--limit", "0"],
                "limit 0",
            ),
            (
                vec!["--users", "u", "--notes-table", "n", "--limit"],
                "limit without value",
            ),
            (
                vec!["--users", "u", "--notes-table", "n", "--force"],
                "unknown flag",
            ),
        ] {
            assert!(args(&bad).is_err(), "{why}");
        }
    }

    #[test]
    fn reads_the_list_users_output() {
        let users = Users::from_list_users_json(
            r#"{"Users": [
                {"Username": "carol", "Attributes": [{"Name": "email", "Value": "c@x"}, {"Name": "sub", "Value": "s-1"}], "Enabled": true},
                {"Username": "dave", "Attributes": [{"Name": "sub", "Value": "s-2"}]}
            ]}"#,
        )
        .unwrap();
        assert!(matches!(users.classify("carol"), Owner::Username("s-1")));
        assert!(matches!(users.classify("s-2"), Owner::Sub));
        assert!(matches!(users.classify("erin"), Owner::Unknown));
        assert!(matches!(
            Users::from_list_users_json(r#"{"Users": [{"Username": "x", "Attributes": []}]}"#),
            Err(MigrateError::UserWithoutSub(_))
        ));
        assert!(matches!(
            Users::from_list_users_json("[]"),
            Err(MigrateError::ParseUsers(_))
        ));
    }
}
