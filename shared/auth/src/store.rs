//! The account store on DynamoDB: users, email claims, sessions (refresh-token families), refresh tokens,
//! single-use challenges, invites, throttling counters and the bootstrap marker, in one table.
//!
//! Table keys `pk` (S) and `sk` (S); TTL attribute `expires_at` (epoch seconds; expiry is also checked in code,
//! because DynamoDB deletes expired items lazily). Index `by-kind` (`kind` S, `email` S) lists users by email.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | user | `user#<id>` | `profile` |
//! | email claim (uniqueness) | `email#<email>` | `email` |
//! | session | `user#<id>` | `session#<sid>` |
//! | refresh token | `refresh#<hash>` | `refresh` |
//! | challenge (MFA token, WebAuthn ceremony) | `challenge#<hash>` | `challenge` |
//! | invite | `invite#<hash>` | `invite` |
//! | throttle counter | `throttle#<key>` | `throttle` |
//! | bootstrap marker | `bootstrap` | `bootstrap` |
//!
//! Every single-use thing (refresh token, challenge, invite, TOTP step, recovery code, bootstrap) is consumed with a
//! conditional write, so two concurrent uses can never both succeed.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use medvault_platform::dynamo::{n, s};

use crate::permission::Role;
use crate::principal::{AuthMethod, UserId};
use crate::throttle::ThrottleKey;

/// The index listing users by email.
pub const INDEX_BY_KIND: &str = "by-kind";

type Item = HashMap<String, AttributeValue>;

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the account store did not answer")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("a stored item is malformed: {0}")]
    Malformed(&'static str),
}

fn unavailable<E: std::error::Error + Send + Sync + 'static>(error: E) -> StoreError {
    StoreError::Unavailable(Box::new(error))
}

/// Whether an SDK error is a failed condition (or a transaction cancelled by one).
fn condition_failed<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    matches!(error, SdkError::ServiceError(e)
        if matches!(e.err().code(), Some("ConditionalCheckFailedException" | "TransactionCanceledException")))
}

/// A user's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    /// Created by an admin; has not accepted the invite (no password yet).
    Invited,
    Active,
    /// Cannot sign in; every session was revoked.
    Disabled,
}

impl UserStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Invited => "invited",
            Self::Active => "active",
            Self::Disabled => "disabled",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "invited" => Some(Self::Invited),
            "active" => Some(Self::Active),
            "disabled" => Some(Self::Disabled),
            _ => None,
        }
    }
}

/// A stored user.
#[derive(Clone)]
pub struct User {
    pub id: UserId,
    /// The normalised email.
    pub email: String,
    pub roles: Vec<Role>,
    pub status: UserStatus,
    /// The argon2id PHC string; `None` until an invite is accepted.
    pub password_hash: Option<String>,
    /// The confirmed TOTP secret (base32).
    pub totp_secret: Option<String>,
    /// The last TOTP step accepted (codes of this step and earlier are refused).
    pub totp_last_step: u64,
    /// A TOTP secret being enrolled, not yet confirmed.
    pub totp_pending: Option<String>,
    /// Hashes of the unused recovery codes.
    pub recovery_codes: Vec<String>,
    /// The registered passkeys (webauthn-rs `Passkey`s as JSON).
    pub passkeys: String,
    pub created_at: DateTime<Utc>,
    /// Bumped by every update of the passkeys, for optimistic concurrency.
    pub version: u64,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User").field("id", &self.id).field("roles", &self.roles).field("status", &self.status).finish()
    }
}

impl User {
    /// Whether a second factor is enrolled.
    pub fn has_totp(&self) -> bool {
        self.totp_secret.is_some()
    }

    pub fn passkey_count(&self) -> usize {
        serde_json::from_str::<Vec<serde_json::Value>>(&self.passkeys).map(|v| v.len()).unwrap_or(0)
    }
}

/// A session: one refresh-token family.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub user_id: UserId,
    pub amr: Vec<AuthMethod>,
    pub created_at: i64,
    /// No refresh after this, ever (the absolute lifetime).
    pub absolute_expires_at: i64,
    /// No refresh after this unless the session is used before (the idle lifetime).
    pub idle_expires_at: i64,
    pub revoked: bool,
    /// The hash of the CSRF token bound to a cookie session.
    pub csrf_hash: Option<String>,
}

/// A stored refresh token.
#[derive(Debug, Clone)]
pub struct RefreshRecord {
    pub hash: String,
    pub user_id: UserId,
    pub session_id: String,
    pub used: bool,
    pub expires_at: i64,
}

/// A single-use server-side state: an MFA token or a WebAuthn ceremony.
#[derive(Debug, Clone)]
pub struct Challenge {
    /// `mfa`, `webauthn-register`, `webauthn-login`.
    pub kind: String,
    pub user_id: UserId,
    /// The ceremony's state (webauthn-rs JSON), or empty.
    pub state: String,
    pub amr: Vec<AuthMethod>,
    /// The MFA token a login ceremony continues, by hash.
    pub mfa_hash: Option<String>,
    /// Whether the tokens of this login go into a cookie.
    pub cookie: bool,
    pub attempts: u32,
    pub expires_at: i64,
}

/// A throttle counter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ThrottleState {
    pub failures: u32,
    pub window_start: i64,
    pub locked_until: i64,
}

/// The account store.
#[derive(Debug, Clone)]
pub struct AccountStore {
    client: Client,
    table: String,
}

fn key(pk: impl Into<String>, sk: &str) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn number(item: &Item, name: &str) -> Option<i64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

fn flag(item: &Item, name: &str) -> bool {
    item.get(name).and_then(|v| v.as_bool().ok()).copied().unwrap_or(false)
}

fn strings(item: &Item, name: &str) -> Vec<String> {
    match item.get(name) {
        Some(AttributeValue::Ss(values)) => values.clone(),
        Some(AttributeValue::L(values)) => values.iter().filter_map(|v| v.as_s().ok().cloned()).collect(),
        _ => Vec::new(),
    }
}

fn string_list(values: impl IntoIterator<Item = impl Into<String>>) -> AttributeValue {
    AttributeValue::L(values.into_iter().map(|v| s(v)).collect())
}

fn amr_of(item: &Item) -> Vec<AuthMethod> {
    strings(item, "amr")
        .iter()
        .filter_map(|m| serde_json::from_value(serde_json::Value::String(m.clone())).ok())
        .collect()
}

fn amr_value(amr: &[AuthMethod]) -> AttributeValue {
    string_list(amr.iter().filter_map(|m| serde_json::to_value(m).ok()).filter_map(|v| v.as_str().map(str::to_owned)))
}

fn user_pk(id: UserId) -> String {
    format!("user#{id}")
}

fn now() -> i64 {
    Utc::now().timestamp()
}

impl AccountStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    // ------------------------------------------------------------------ users

    fn user_item(user: &User) -> Item {
        let mut item = key(user_pk(user.id), "profile");
        item.insert("kind".into(), s("user"));
        item.insert("id".into(), s(user.id.to_string()));
        item.insert("email".into(), s(&user.email));
        item.insert("roles".into(), string_list(user.roles.iter().map(|r| r.as_str())));
        item.insert("status".into(), s(user.status.as_str()));
        if let Some(hash) = &user.password_hash {
            item.insert("password_hash".into(), s(hash));
        }
        item.insert("totp_last_step".into(), n(user.totp_last_step));
        item.insert("passkeys".into(), s(&user.passkeys));
        item.insert("created_at".into(), s(user.created_at.to_rfc3339()));
        item.insert("version".into(), n(user.version));
        item
    }

    fn user_from(item: &Item) -> Result<User, StoreError> {
        let id = text(item, "id").and_then(|id| id.parse().ok()).ok_or(StoreError::Malformed("user id"))?;
        let status = text(item, "status").and_then(|s| UserStatus::parse(&s)).ok_or(StoreError::Malformed("status"))?;
        Ok(User {
            id,
            email: text(item, "email").ok_or(StoreError::Malformed("email"))?,
            roles: strings(item, "roles").iter().filter_map(|r| r.parse().ok()).collect(),
            status,
            password_hash: text(item, "password_hash"),
            totp_secret: text(item, "totp_secret"),
            totp_last_step: number(item, "totp_last_step").and_then(|v| u64::try_from(v).ok()).unwrap_or(0),
            totp_pending: text(item, "totp_pending"),
            recovery_codes: strings(item, "recovery_codes"),
            passkeys: text(item, "passkeys").unwrap_or_else(|| "[]".into()),
            created_at: text(item, "created_at")
                .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default(),
            version: number(item, "version").and_then(|v| u64::try_from(v).ok()).unwrap_or(0),
        })
    }

    /// Creates `user` and claims its email; `Ok(false)` when the email is taken.
    pub async fn create_user(&self, user: &User) -> Result<bool, StoreError> {
        let mut claim = key(format!("email#{}", user.email), "email");
        claim.insert("user_id".into(), s(user.id.to_string()));
        let put = |item: Item| {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map(|put| TransactWriteItem::builder().put(put).build())
        };
        let items = vec![put(claim).map_err(unavailable)?, put(Self::user_item(user)).map_err(unavailable)?];
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(true),
            Err(error) if condition_failed(&error) => Ok(false),
            Err(error) => Err(unavailable(error)),
        }
    }

    pub async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(id), "profile")))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        output.item.as_ref().map(Self::user_from).transpose()
    }

    /// The user whose (normalised) email is `email`.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("email#{email}"), "email")))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(id) = output.item.as_ref().and_then(|i| text(i, "user_id")).and_then(|id| id.parse().ok()) else {
            return Ok(None);
        };
        self.user(id).await
    }

    /// Users by email, `limit` at a time, after the cursor a previous page returned.
    pub async fn list_users(
        &self,
        limit: i32,
        after: Option<(String, UserId)>,
    ) -> Result<(Vec<User>, Option<(String, UserId)>), StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(INDEX_BY_KIND)
            .key_condition_expression("kind = :user")
            .expression_attribute_values(":user", s("user"))
            .limit(limit);
        if let Some((email, id)) = after {
            let mut start = key(user_pk(id), "profile");
            start.insert("kind".into(), s("user"));
            start.insert("email".into(), s(email));
            query = query.set_exclusive_start_key(Some(start));
        }
        let output = query.send().await.map_err(unavailable)?;
        let users = output.items().iter().map(Self::user_from).collect::<Result<Vec<_>, _>>()?;
        let next = output.last_evaluated_key().and_then(|k| {
            let email = text(k, "email")?;
            let id = text(k, "pk")?.strip_prefix("user#")?.parse().ok()?;
            Some((email, id))
        });
        Ok((users, next))
    }

    /// Sets attributes of a user with an update expression; `Ok(false)` when the condition fails or there is no such
    /// user.
    async fn update_user(
        &self,
        id: UserId,
        expression: &str,
        condition: Option<&str>,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<bool, StoreError> {
        let condition = match condition {
            Some(extra) => format!("attribute_exists(pk) AND ({extra})"),
            None => "attribute_exists(pk)".to_owned(),
        };
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(id), "profile")))
            .update_expression(expression)
            .condition_expression(&condition);
        for (name, value) in values {
            request = request.expression_attribute_values(name, value);
        }
        // `status` and `roles` are DynamoDB reserved words.
        for (placeholder, name) in [("#st", "status"), ("#roles", "roles")] {
            if expression.contains(placeholder) || condition.contains(placeholder) {
                request = request.expression_attribute_names(placeholder, name);
            }
        }
        match request.send().await {
            Ok(_) => Ok(true),
            Err(error) if condition_failed(&error) => Ok(false),
            Err(error) => Err(unavailable(error)),
        }
    }

    pub async fn set_password(&self, id: UserId, hash: &str, activate: bool) -> Result<bool, StoreError> {
        if activate {
            self.update_user(
                id,
                "SET password_hash = :h, #st = :active",
                Some("#st <> :disabled"),
                vec![(":h", s(hash)), (":active", s("active")), (":disabled", s("disabled"))],
            )
            .await
        } else {
            self.update_user(id, "SET password_hash = :h", None, vec![(":h", s(hash))]).await
        }
    }

    pub async fn set_roles(&self, id: UserId, roles: &[Role]) -> Result<bool, StoreError> {
        self.update_user(id, "SET #roles = :r", None, vec![(":r", string_list(roles.iter().map(|r| r.as_str())))]).await
    }

    pub async fn set_status(&self, id: UserId, status: UserStatus) -> Result<bool, StoreError> {
        self.update_user(id, "SET #st = :s", None, vec![(":s", s(status.as_str()))]).await
    }

    pub async fn set_totp_pending(&self, id: UserId, secret: &str) -> Result<bool, StoreError> {
        self.update_user(
            id,
            "SET totp_pending = :p",
            Some("attribute_not_exists(totp_secret)"),
            vec![(":p", s(secret))],
        )
        .await
    }

    /// Makes the pending secret the user's TOTP secret, records `step` as used and stores the recovery-code hashes;
    /// `Ok(false)` when the pending secret changed meanwhile.
    pub async fn confirm_totp(
        &self,
        id: UserId,
        pending: &str,
        step: u64,
        recovery_hashes: &[String],
    ) -> Result<bool, StoreError> {
        self.update_user(
            id,
            "SET totp_secret = :p, totp_last_step = :step, recovery_codes = :codes REMOVE totp_pending",
            Some("totp_pending = :p AND attribute_not_exists(totp_secret)"),
            vec![(":p", s(pending)), (":step", n(step)), (":codes", AttributeValue::Ss(recovery_hashes.to_vec()))],
        )
        .await
    }

    /// Records `step` as the last TOTP step used, if it is later than the last one: `Ok(false)` is a replay.
    pub async fn use_totp_step(&self, id: UserId, step: u64) -> Result<bool, StoreError> {
        self.update_user(id, "SET totp_last_step = :step", Some("totp_last_step < :step"), vec![(":step", n(step))])
            .await
    }

    /// Removes one recovery code by hash: `Ok(false)` when it is not (or no longer) there.
    pub async fn use_recovery_code(&self, id: UserId, hash: &str) -> Result<bool, StoreError> {
        self.update_user(
            id,
            "DELETE recovery_codes :h",
            Some("contains(recovery_codes, :code)"),
            vec![(":h", AttributeValue::Ss(vec![hash.to_owned()])), (":code", s(hash))],
        )
        .await
    }

    /// Replaces the passkeys if the user is still at `version`.
    pub async fn set_passkeys(&self, id: UserId, passkeys: &str, version: u64) -> Result<bool, StoreError> {
        self.update_user(
            id,
            "SET passkeys = :p, version = :next",
            Some("version = :v"),
            vec![(":p", s(passkeys)), (":v", n(version)), (":next", n(version + 1))],
        )
        .await
    }

    // ------------------------------------------------------------------ sessions and refresh tokens

    fn session_key(user: UserId, sid: &str) -> Item {
        key(user_pk(user), &format!("session#{sid}"))
    }

    fn refresh_item(record: &RefreshRecord) -> Item {
        let mut item = key(format!("refresh#{}", record.hash), "refresh");
        item.insert("user_id".into(), s(record.user_id.to_string()));
        item.insert("session_id".into(), s(&record.session_id));
        item.insert("used".into(), AttributeValue::Bool(record.used));
        item.insert("expires_at".into(), n(record.expires_at));
        item
    }

    /// Creates a session and its first refresh token.
    pub async fn create_session(&self, session: &Session, first: &RefreshRecord) -> Result<(), StoreError> {
        let mut item = Self::session_key(session.user_id, &session.id);
        item.insert("amr".into(), amr_value(&session.amr));
        item.insert("created_at".into(), n(session.created_at));
        item.insert("absolute_expires_at".into(), n(session.absolute_expires_at));
        item.insert("idle_expires_at".into(), n(session.idle_expires_at));
        item.insert("revoked".into(), AttributeValue::Bool(false));
        item.insert("expires_at".into(), n(session.absolute_expires_at + 86_400));
        if let Some(csrf) = &session.csrf_hash {
            item.insert("csrf_hash".into(), s(csrf));
        }
        let items = vec![
            TransactWriteItem::builder()
                .put(Put::builder().table_name(&self.table).set_item(Some(item)).build().map_err(unavailable)?)
                .build(),
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(Self::refresh_item(first)))
                        .build()
                        .map_err(unavailable)?,
                )
                .build(),
        ];
        self.client.transact_write_items().set_transact_items(Some(items)).send().await.map_err(unavailable)?;
        Ok(())
    }

    pub async fn session(&self, user: UserId, sid: &str) -> Result<Option<Session>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::session_key(user, sid)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output.item.map(|item| Session {
            id: sid.to_owned(),
            user_id: user,
            amr: amr_of(&item),
            created_at: number(&item, "created_at").unwrap_or_default(),
            absolute_expires_at: number(&item, "absolute_expires_at").unwrap_or_default(),
            idle_expires_at: number(&item, "idle_expires_at").unwrap_or_default(),
            revoked: flag(&item, "revoked"),
            csrf_hash: text(&item, "csrf_hash"),
        }))
    }

    pub async fn refresh_record(&self, hash: &str) -> Result<Option<RefreshRecord>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("refresh#{hash}"), "refresh")))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(item) = output.item else { return Ok(None) };
        Ok(Some(RefreshRecord {
            hash: hash.to_owned(),
            user_id: text(&item, "user_id").and_then(|u| u.parse().ok()).ok_or(StoreError::Malformed("user_id"))?,
            session_id: text(&item, "session_id").ok_or(StoreError::Malformed("session_id"))?,
            used: flag(&item, "used"),
            expires_at: number(&item, "expires_at").unwrap_or_default(),
        }))
    }

    /// Marks a refresh token used: `Ok(false)` when it already was (a reuse, or a concurrent use).
    pub async fn consume_refresh(&self, hash: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("refresh#{hash}"), "refresh")))
            .update_expression("SET used = :yes")
            .condition_expression("attribute_exists(pk) AND used = :no")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if condition_failed(&error) => Ok(false),
            Err(error) => Err(unavailable(error)),
        }
    }

    /// Stores the next refresh token of a live session and extends its idle lifetime; `Ok(false)` when the session
    /// was revoked meanwhile.
    pub async fn rotate_refresh(&self, next: &RefreshRecord, idle_expires_at: i64) -> Result<bool, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::session_key(next.user_id, &next.session_id)))
            .update_expression("SET idle_expires_at = :idle")
            .condition_expression("attribute_exists(pk) AND revoked = :no")
            .expression_attribute_values(":idle", n(idle_expires_at))
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .build()
            .map_err(unavailable)?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::refresh_item(next)))
            .build()
            .map_err(unavailable)?;
        let items =
            vec![TransactWriteItem::builder().update(update).build(), TransactWriteItem::builder().put(put).build()];
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(true),
            Err(error) if condition_failed(&error) => Ok(false),
            Err(error) => Err(unavailable(error)),
        }
    }

    /// Revokes one session (idempotent).
    pub async fn revoke_session(&self, user: UserId, sid: &str, reason: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::session_key(user, sid)))
            .update_expression("SET revoked = :yes, revoked_reason = :why, revoked_at = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":why", s(reason))
            .expression_attribute_values(":now", n(now()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if condition_failed(&error) => Ok(()),
            Err(error) => Err(unavailable(error)),
        }
    }

    /// Revokes every live session of `user` except `keep`; returns how many were revoked.
    pub async fn revoke_sessions(&self, user: UserId, keep: Option<&str>, reason: &str) -> Result<usize, StoreError> {
        let mut revoked = 0;
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .filter_expression("revoked = :no")
                .expression_attribute_values(":pk", s(user_pk(user)))
                .expression_attribute_values(":prefix", s("session#"))
                .expression_attribute_values(":no", AttributeValue::Bool(false))
                .set_exclusive_start_key(start)
                .consistent_read(true)
                .send()
                .await
                .map_err(unavailable)?;
            for item in output.items() {
                let Some(sid) = text(item, "sk").and_then(|sk| sk.strip_prefix("session#").map(str::to_owned)) else {
                    continue;
                };
                if keep == Some(sid.as_str()) {
                    continue;
                }
                self.revoke_session(user, &sid, reason).await?;
                revoked += 1;
            }
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(revoked);
            }
        }
    }

    // ------------------------------------------------------------------ challenges and invites

    /// Stores a challenge under the hash of its token.
    pub async fn put_challenge(&self, hash: &str, challenge: &Challenge) -> Result<(), StoreError> {
        let mut item = key(format!("challenge#{hash}"), "challenge");
        item.insert("kind".into(), s(format!("challenge:{}", challenge.kind)));
        item.insert("user_id".into(), s(challenge.user_id.to_string()));
        item.insert("state".into(), s(&challenge.state));
        item.insert("amr".into(), amr_value(&challenge.amr));
        if let Some(mfa) = &challenge.mfa_hash {
            item.insert("mfa_hash".into(), s(mfa));
        }
        item.insert("cookie".into(), AttributeValue::Bool(challenge.cookie));
        item.insert("attempts".into(), n(challenge.attempts));
        item.insert("expires_at".into(), n(challenge.expires_at));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(unavailable)?;
        Ok(())
    }

    fn challenge_from(item: &Item) -> Result<Challenge, StoreError> {
        Ok(Challenge {
            kind: text(item, "kind")
                .and_then(|k| k.strip_prefix("challenge:").map(str::to_owned))
                .ok_or(StoreError::Malformed("challenge kind"))?,
            user_id: text(item, "user_id").and_then(|u| u.parse().ok()).ok_or(StoreError::Malformed("user_id"))?,
            state: text(item, "state").unwrap_or_default(),
            amr: amr_of(item),
            mfa_hash: text(item, "mfa_hash"),
            cookie: flag(item, "cookie"),
            attempts: number(item, "attempts").and_then(|a| u32::try_from(a).ok()).unwrap_or(0),
            expires_at: number(item, "expires_at").unwrap_or_default(),
        })
    }

    /// Reads a live challenge without consuming it.
    pub async fn challenge(&self, hash: &str) -> Result<Option<Challenge>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("challenge#{hash}"), "challenge")))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let challenge = output.item.as_ref().map(Self::challenge_from).transpose()?;
        Ok(challenge.filter(|c| c.expires_at > now()))
    }

    /// Deletes a challenge and returns it if it was there and live: only one caller can ever take it.
    pub async fn take_challenge(&self, hash: &str) -> Result<Option<Challenge>, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("challenge#{hash}"), "challenge")))
            .condition_expression("attribute_exists(pk)")
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => {
                let challenge = output.attributes.as_ref().map(Self::challenge_from).transpose()?;
                Ok(challenge.filter(|c| c.expires_at > now()))
            }
            Err(error) if condition_failed(&error) => Ok(None),
            Err(error) => Err(unavailable(error)),
        }
    }

    /// Counts a failed attempt on a challenge; when it reaches `max`, the challenge is deleted and `Ok(false)` says so.
    pub async fn fail_challenge(&self, hash: &str, max: u32) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("challenge#{hash}"), "challenge")))
            .update_expression("ADD attempts :one")
            .condition_expression("attribute_exists(pk) AND attempts < :last")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":last", n(max.saturating_sub(1)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if condition_failed(&error) => {
                self.take_challenge(hash).await?;
                Ok(false)
            }
            Err(error) => Err(unavailable(error)),
        }
    }

    pub async fn put_invite(&self, hash: &str, user: UserId, expires_at: i64) -> Result<(), StoreError> {
        let mut item = key(format!("invite#{hash}"), "invite");
        item.insert("user_id".into(), s(user.to_string()));
        item.insert("expires_at".into(), n(expires_at));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(unavailable)?;
        Ok(())
    }

    /// Consumes an invite: the user it was for, if it existed and had not expired.
    pub async fn take_invite(&self, hash: &str) -> Result<Option<UserId>, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("invite#{hash}"), "invite")))
            .condition_expression("attribute_exists(pk)")
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => Ok(output
                .attributes
                .filter(|item| number(item, "expires_at").unwrap_or_default() > now())
                .and_then(|item| text(&item, "user_id"))
                .and_then(|u| u.parse().ok())),
            Err(error) if condition_failed(&error) => Ok(None),
            Err(error) => Err(unavailable(error)),
        }
    }

    // ------------------------------------------------------------------ throttling

    pub async fn throttle(&self, key_: &ThrottleKey) -> Result<ThrottleState, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("throttle#{}", key_.key), "throttle")))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(item) = output.item else { return Ok(ThrottleState::default()) };
        let state = ThrottleState {
            failures: number(&item, "failures").and_then(|f| u32::try_from(f).ok()).unwrap_or(0),
            window_start: number(&item, "window_start").unwrap_or_default(),
            locked_until: number(&item, "locked_until").unwrap_or_default(),
        };
        let window = i64::try_from(key_.policy.window.as_secs()).unwrap_or(i64::MAX);
        if state.window_start + window < now() && state.locked_until <= now() {
            return Ok(ThrottleState::default());
        }
        Ok(state)
    }

    /// Counts a failure against `key_` and locks it for the policy's delay; returns the new state.
    pub async fn record_failure(&self, key_: &ThrottleKey) -> Result<ThrottleState, StoreError> {
        let now = now();
        let window = i64::try_from(key_.policy.window.as_secs()).unwrap_or(i64::MAX);
        let item_key = key(format!("throttle#{}", key_.key), "throttle");
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(item_key.clone()))
            .update_expression(
                "SET failures = if_not_exists(failures, :zero) + :one, window_start = if_not_exists(window_start, :now), \
                 expires_at = :expires",
            )
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":expires", n(now + window + 3600))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(unavailable)?;
        let item = output.attributes.unwrap_or_default();
        let mut failures = number(&item, "failures").and_then(|f| u32::try_from(f).ok()).unwrap_or(1);
        let window_start = number(&item, "window_start").unwrap_or(now);
        if window_start + window < now {
            // The window passed: this failure opens a new one (a race here only loses a count).
            failures = 1;
            let mut fresh = item_key.clone();
            fresh.insert("failures".into(), n(1));
            fresh.insert("window_start".into(), n(now));
            fresh.insert("expires_at".into(), n(now + window + 3600));
            self.client.put_item().table_name(&self.table).set_item(Some(fresh)).send().await.map_err(unavailable)?;
        }
        let delay = i64::try_from(key_.policy.delay_after(failures).as_secs()).unwrap_or(i64::MAX);
        let locked_until = if delay > 0 { now + delay } else { 0 };
        if delay > 0 {
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(item_key))
                .update_expression("SET locked_until = :until, expires_at = :expires")
                .expression_attribute_values(":until", n(locked_until))
                .expression_attribute_values(":expires", n(locked_until.max(now + window) + 3600))
                .send()
                .await
                .map_err(unavailable)?;
        }
        Ok(ThrottleState { failures, window_start, locked_until })
    }

    /// Forgets the failures of `key_` (after a successful sign-in).
    pub async fn clear_throttle(&self, key_: &ThrottleKey) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("throttle#{}", key_.key), "throttle")))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    // ------------------------------------------------------------------ bootstrap

    /// Claims the one-time bootstrap for `user`: `Ok(false)` when it was already used.
    pub async fn claim_bootstrap(&self, user: UserId) -> Result<bool, StoreError> {
        let mut item = key("bootstrap", "bootstrap");
        item.insert("user_id".into(), s(user.to_string()));
        item.insert("at".into(), n(now()));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if condition_failed(&error) => Ok(false),
            Err(error) => Err(unavailable(error)),
        }
    }

    /// Gives back the bootstrap claim (when creating the first admin failed after claiming it).
    pub async fn release_bootstrap(&self) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key("bootstrap", "bootstrap")))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
