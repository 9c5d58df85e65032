//! The user pool on Cognito as the domain's `UserDirectory`: deletes the caller's user (the
//! `account` function) and tells whether a `sub` still exists (the `purge` function). Its own
//! crate so that only those two functions link the Cognito SDK.

use aws_config::SdkConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::operation::admin_delete_user::AdminDeleteUserError;
use aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserError;
use notes_domain::{StoreError, UserDirectory, UserId, UserRemoval, Username};

/// Error codes of Cognito's "slow down" and of its own transient faults: worth a retry later.
const TRANSIENT_CODES: &[&str] = &[
    "TooManyRequestsException",
    "ThrottlingException",
    "InternalErrorException",
    "ServiceUnavailable",
];

/// One user pool.
#[derive(Debug, Clone)]
pub struct CognitoDirectory {
    client: aws_sdk_cognitoidentityprovider::Client,
    pool_id: String,
}

impl CognitoDirectory {
    /// `timeouts`: each function's own, to fit its deadline.
    pub fn new(sdk: &SdkConfig, pool_id: String, timeouts: TimeoutConfig) -> Self {
        let config = aws_sdk_cognitoidentityprovider::config::Builder::from(sdk)
            .timeout_config(timeouts)
            .build();
        Self {
            client: aws_sdk_cognitoidentityprovider::Client::from_conf(config),
            pool_id,
        }
    }
}

/// Unreachable, timing out, throttled or failing on Cognito's side: `Unavailable`; anything else
/// (access denied, a missing pool, a bug) is `Internal`. The SDK error stays the source, for the
/// log only.
fn directory_error<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let transient = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(context) => context
            .err()
            .code()
            .is_some_and(|code| TRANSIENT_CODES.contains(&code)),
        _ => false,
    };
    if transient {
        StoreError::unavailable(err)
    } else {
        StoreError::internal(err)
    }
}

/// A `sub` as a ListUsers filter value: Cognito's filter syntax has no escaping that we rely on,
/// so a value with a quote or a backslash (never a real `sub`, which is a UUID) is refused rather
/// than risk a filter that matches nothing and so reads as "gone".
fn filter_for(user: &UserId) -> Result<String, StoreError> {
    let sub = user.as_str();
    if sub.contains(['"', '\\']) {
        return Err(StoreError::internal(std::io::Error::other(
            "a user id with a quote or backslash cannot be looked up in the pool",
        )));
    }
    Ok(format!("sub = \"{sub}\""))
}

impl UserDirectory for CognitoDirectory {
    async fn delete_user(
        &self,
        user: &UserId,
        username: &Username,
    ) -> Result<UserRemoval, StoreError> {
        // The name first, then its sub: should the name already belong to a new sign-up (the
        // account was deleted and its name taken again), that account is not ours to delete.
        let found = self
            .client
            .admin_get_user()
            .user_pool_id(&self.pool_id)
            .username(username.as_str())
            .send()
            .await;
        let found = match found {
            Ok(found) => found,
            Err(err)
                if matches!(
                    err.as_service_error(),
                    Some(AdminGetUserError::UserNotFoundException(_))
                ) =>
            {
                return Ok(UserRemoval::AlreadyGone);
            }
            Err(err) => return Err(directory_error(err)),
        };
        let sub = found
            .user_attributes()
            .iter()
            .find(|attribute| attribute.name() == "sub")
            .and_then(|attribute| attribute.value());
        if sub != Some(user.as_str()) {
            return Ok(UserRemoval::AlreadyGone);
        }
        match self
            .client
            .admin_delete_user()
            .user_pool_id(&self.pool_id)
            .username(username.as_str())
            .send()
            .await
        {
            Ok(_) => Ok(UserRemoval::Deleted),
            Err(err)
                if matches!(
                    err.as_service_error(),
                    Some(AdminDeleteUserError::UserNotFoundException(_))
                ) =>
            {
                Ok(UserRemoval::AlreadyGone)
            }
            Err(err) => Err(directory_error(err)),
        }
    }

    async fn user_exists(&self, user: &UserId) -> Result<bool, StoreError> {
        let output = self
            .client
            .list_users()
            .user_pool_id(&self.pool_id)
            .filter(filter_for(user)?)
            .attributes_to_get("sub")
            .limit(1)
            .send()
            .await
            .map_err(directory_error)?;
        Ok(!output.users().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_name_the_sub_and_refuse_what_could_break_out_of_the_quotes() {
        let cases = [
            ("0f8d4c1e-4b6a-4f7e-9d1c-2a3b4c5d6e7f", true, "a UUID sub"),
            ("a\"b", false, "a quote would end the value"),
            ("a\\b", false, "a backslash could escape the quote"),
        ];
        for (sub, accepted, why) in cases {
            let user = UserId::parse(sub).unwrap_or_else(|_| unreachable!("{why}"));
            match filter_for(&user) {
                Ok(filter) => {
                    assert!(accepted, "{why}");
                    assert_eq!(filter, format!("sub = \"{sub}\""), "{why}");
                }
                Err(_) => assert!(!accepted, "{why}"),
            }
        }
    }
}
