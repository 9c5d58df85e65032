//! The usage table as the `SpeechBudget`: one counter item per user and UTC day (sort key
//! `speech#<day>`), taken from with one conditional `UpdateItem` before Polly is called, so
//! concurrent dictations can never together go over the day's budget. Each day's item expires
//! by the table's TTL two days later.

use std::time::Duration;

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use notes_domain::{SpeechBudget, SpeechError, Timestamp, UserId};

use crate::error::store_error;

/// The counter's attribute, and the TTL attribute (epoch seconds) of the usage table.
const COUNT: &str = "Count";
const EXPIRES_AT: &str = "ExpiresAt";
/// A day's counter is kept a day longer than the day, then DynamoDB's TTL removes it.
const KEEP_FOR: Duration = Duration::from_secs(2 * 86_400);

/// Characters of speech per user and UTC day.
#[derive(Debug, Clone)]
pub struct DynamoSpeechBudget {
    client: aws_sdk_dynamodb::Client,
    table: String,
    daily_characters: u32,
}

impl DynamoSpeechBudget {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>, daily: u32) -> Self {
        Self {
            client,
            table: table.into(),
            daily_characters: daily,
        }
    }

    fn exhausted(&self, now: Timestamp) -> SpeechError {
        SpeechError::BudgetExhausted {
            limit: self.daily_characters,
            retry_after_seconds: now.seconds_until_next_utc_day(),
        }
    }

    fn add(
        &self,
        user: &UserId,
        now: Timestamp,
        delta: i64,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("UserId", AttributeValue::S(user.as_str().to_owned()))
            .key(
                "Counter",
                AttributeValue::S(format!("speech#{}", now.utc_day())),
            )
            .update_expression("ADD #count :delta SET #expires = if_not_exists(#expires, :expires)")
            .expression_attribute_names("#count", COUNT)
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_values(":delta", AttributeValue::N(delta.to_string()))
            .expression_attribute_values(
                ":expires",
                AttributeValue::N(now.plus(KEEP_FOR).unix_seconds().to_string()),
            )
    }
}

impl SpeechBudget for DynamoSpeechBudget {
    async fn spend(
        &self,
        user: &UserId,
        characters: u32,
        now: Timestamp,
    ) -> Result<(), SpeechError> {
        // DynamoDB conditions cannot do arithmetic: what may already be spent is computed here.
        let Some(room) = self.daily_characters.checked_sub(characters) else {
            return Err(self.exhausted(now));
        };
        let result = self
            .add(user, now, i64::from(characters))
            .condition_expression("attribute_not_exists(#count) OR #count <= :room")
            .expression_attribute_values(":room", AttributeValue::N(room.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(_)) => {
                    Err(self.exhausted(now))
                }
                _ => Err(match store_error(err) {
                    notes_domain::StoreError::Unavailable(source) => {
                        SpeechError::Unavailable(source)
                    }
                    other => SpeechError::internal(other),
                }),
            },
        }
    }

    async fn refund(&self, user: &UserId, characters: u32, now: Timestamp) {
        if self
            .add(user, now, -i64::from(characters))
            .send()
            .await
            .is_err()
        {
            tracing::warn!(
                characters,
                "characters of a failed dictation stay spent for the day"
            );
        }
    }
}
