//! The idempotency table: one record per (function, caller, key), laid out as Powertools for AWS
//! Lambda lays out its own (`id`, `status`, `expiration` as the TTL attribute,
//! `in_progress_expiration`, `validation` for the payload hash, `data` for the response).
//!
//! A claim is one conditional PutItem: it succeeds only when there is no live record, so of
//! concurrent duplicates exactly one proceeds. DynamoDB's TTL deletes expired records within a
//! day or two, not at once, so the condition also treats an expired record as free.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use notes_domain::{
    ClaimOutcome, IdempotencyClaim, IdempotencyStore, RecordedResponse, StoreError,
};

use crate::error::{corrupt, store_error};

type Item = HashMap<String, AttributeValue>;

const ID: &str = "id";
/// The caller's id (`sub`), the hash key of the table's `OwnerIndex`: how an account's deletion
/// finds its records. Records written before it existed have none and simply expire.
pub(crate) const OWNER: &str = "owner";
const STATUS: &str = "status";
const EXPIRATION: &str = "expiration";
const IN_PROGRESS_EXPIRATION: &str = "in_progress_expiration";
const VALIDATION: &str = "validation";
const DATA: &str = "data";

const IN_PROGRESS: &str = "INPROGRESS";
const COMPLETED: &str = "COMPLETED";

/// A claim that loses to a record which then disappears (released or expired between our two
/// reads) tries again; twice is plenty, a third loss means something keeps racing us.
const CLAIM_ATTEMPTS: usize = 3;

/// How one conditional put went.
enum Attempt {
    Acquired,
    /// A live record is in the way.
    Blocked(Item),
    /// A record was in the way but is gone when read back (released meanwhile): try again.
    Vanished,
}

/// The idempotency table, as used by the `createUpdate` and `post` functions.
#[derive(Debug, Clone)]
pub struct DynamoIdempotency {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

impl DynamoIdempotency {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The conditional put.
    async fn try_claim(&self, claim: &IdempotencyClaim) -> Result<Attempt, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(ID, s(&claim.id))
            .item(OWNER, s(claim.owner.as_str()))
            .item(STATUS, s(IN_PROGRESS))
            .item(EXPIRATION, n(claim.expires_at.unix_seconds()))
            .item(
                IN_PROGRESS_EXPIRATION,
                n(claim.in_progress_until.unix_millis()),
            )
            .item(VALIDATION, s(&claim.payload_hash))
            .condition_expression(
                "attribute_not_exists(#id) OR #expiration < :now_s \
                 OR (#status = :in_progress AND #in_progress_expiration < :now_ms)",
            )
            .expression_attribute_names("#id", ID)
            .expression_attribute_names("#expiration", EXPIRATION)
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_names("#in_progress_expiration", IN_PROGRESS_EXPIRATION)
            .expression_attribute_values(":now_s", n(claim.now.unix_seconds()))
            .expression_attribute_values(":now_ms", n(claim.now.unix_millis()))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Attempt::Acquired),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failure)) => {
                    match failure.item() {
                        Some(item) => Ok(Attempt::Blocked(item.clone())),
                        // DynamoDB Local before 2.0 does not return the item: read it.
                        None => Ok(match self.read(&claim.id).await? {
                            Some(item) => Attempt::Blocked(item),
                            None => Attempt::Vanished,
                        }),
                    }
                }
                _ => Err(store_error(err)),
            },
        }
    }

    async fn read(&self, id: &str) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(ID, s(id))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?;
        Ok(output.item)
    }
}

fn text<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    item.get(name)
        .and_then(|value| value.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| corrupt(format!("idempotency record has no string {name}")))
}

/// What a record that blocked a claim says.
fn outcome_of(item: &Item) -> Result<ClaimOutcome, StoreError> {
    let payload_hash = text(item, VALIDATION)?.to_owned();
    match text(item, STATUS)? {
        IN_PROGRESS => Ok(ClaimOutcome::InProgress { payload_hash }),
        COMPLETED => Ok(ClaimOutcome::Completed {
            payload_hash,
            response: decode_response(item.get(DATA))?,
        }),
        other => Err(corrupt(format!("idempotency record has status {other:?}"))),
    }
}

/// `data` is a map `{status: N, headers: {name: S}, body: S}`: readable in the console, and no
/// JSON-in-a-string to decode.
fn encode_response(response: &RecordedResponse) -> AttributeValue {
    let headers = response
        .headers
        .iter()
        .map(|(name, value)| (name.clone(), s(value)))
        .collect();
    AttributeValue::M(HashMap::from([
        ("status".to_owned(), n(i64::from(response.status))),
        ("headers".to_owned(), AttributeValue::M(headers)),
        ("body".to_owned(), s(&response.body)),
    ]))
}

fn decode_response(data: Option<&AttributeValue>) -> Result<RecordedResponse, StoreError> {
    let invalid = |what: &str| corrupt(format!("completed idempotency record has {what}"));
    let data = data
        .and_then(|value| value.as_m().ok())
        .ok_or_else(|| invalid("no data map"))?;
    let status = data
        .get("status")
        .and_then(|value| value.as_n().ok())
        .and_then(|number| number.parse::<u16>().ok())
        .ok_or_else(|| invalid("no valid status"))?;
    let body = data
        .get("body")
        .and_then(|value| value.as_s().ok())
        .ok_or_else(|| invalid("no body"))?
        .clone();
    let mut headers = Vec::new();
    if let Some(map) = data.get("headers").and_then(|value| value.as_m().ok()) {
        for (name, value) in map {
            let value = value
                .as_s()
                .map_err(|_| invalid("a header that is not a string"))?;
            headers.push((name.clone(), value.clone()));
        }
    }
    // Map order is arbitrary; a stable order keeps replays byte-identical.
    headers.sort();
    Ok(RecordedResponse {
        status,
        headers,
        body,
    })
}

impl IdempotencyStore for DynamoIdempotency {
    async fn claim(&self, claim: &IdempotencyClaim) -> Result<ClaimOutcome, StoreError> {
        for _ in 0..CLAIM_ATTEMPTS {
            match self.try_claim(claim).await? {
                Attempt::Acquired => return Ok(ClaimOutcome::Acquired),
                Attempt::Blocked(item) => return outcome_of(&item),
                Attempt::Vanished => continue,
            }
        }
        Err(StoreError::unavailable(std::io::Error::other(
            "idempotency record keeps changing under the claim",
        )))
    }

    async fn complete(
        &self,
        claim: &IdempotencyClaim,
        response: &RecordedResponse,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(ID, s(&claim.id))
            .update_expression("SET #status = :completed, #data = :data REMOVE #in_progress_expiration")
            .condition_expression("#status = :in_progress AND #validation = :hash AND #in_progress_expiration = :until")
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_names("#data", DATA)
            .expression_attribute_names("#validation", VALIDATION)
            .expression_attribute_names("#in_progress_expiration", IN_PROGRESS_EXPIRATION)
            .expression_attribute_values(":completed", s(COMPLETED))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":hash", s(&claim.payload_hash))
            .expression_attribute_values(":until", n(claim.in_progress_until.unix_millis()))
            .expression_attribute_values(":data", encode_response(response))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(_)) => {
                    Err(StoreError::VersionConflict { current: None })
                }
                _ => Err(store_error(err)),
            },
        }
    }

    async fn release(&self, claim: &IdempotencyClaim) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(ID, s(&claim.id))
            .condition_expression("#status = :in_progress AND #validation = :hash AND #in_progress_expiration = :until")
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_names("#validation", VALIDATION)
            .expression_attribute_names("#in_progress_expiration", IN_PROGRESS_EXPIRATION)
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":hash", s(&claim.payload_hash))
            .expression_attribute_values(":until", n(claim.in_progress_until.unix_millis()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => match err.as_service_error() {
                // Someone else's record now (ours expired and was taken over): leave it alone.
                Some(DeleteItemError::ConditionalCheckFailedException(_)) => Ok(()),
                _ => Err(store_error(err)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_round_trip_through_the_data_map() {
        let response = RecordedResponse {
            status: 201,
            headers: vec![
                ("etag".into(), "\"1\"".into()),
                ("location".into(), "/Prod/notes/abc".into()),
            ],
            body: r#"{"NoteId":"abc"}"#.into(),
        };
        let decoded = decode_response(Some(&encode_response(&response))).unwrap();
        assert_eq!(decoded, response);
    }

    #[test]
    fn unreadable_records_are_corrupt_not_panics() {
        let cases = [
            None,
            Some(s("not a map")),
            Some(AttributeValue::M(HashMap::from([(
                "status".to_owned(),
                s("201"),
            )]))),
        ];
        for data in cases {
            assert!(matches!(
                decode_response(data.as_ref()),
                Err(StoreError::Internal(_))
            ));
        }
        let weird_status = Item::from([
            (VALIDATION.to_owned(), s("h")),
            (STATUS.to_owned(), s("EXPIRED")),
        ]);
        assert!(matches!(
            outcome_of(&weird_status),
            Err(StoreError::Internal(_))
        ));
    }
}
