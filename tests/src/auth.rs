//! The auth API on a local stack, as the auth tests (`auth.rs`, `auth_security.rs`) drive it: a stack seeded with the
//! dev admin, an HTTP client, rotations step by step, and helpers for tokens and TOTP codes.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use local_stack::{LocalStack, StackOptions};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub const ADMIN_EMAIL: &str = "dev-admin@medvault.test";
pub const ADMIN_PASSWORD: &str = "local dev admin passphrase";
pub const ORIGIN: &str = "http://localhost:5173";

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

pub struct Api {
    pub stack: LocalStack,
    pub http: reqwest::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
}

/// A stack seeded with the dev admin, with `env` for every function; the stack's start ran the signing key's first
/// rotation, as CloudFormation does when it creates the rotation schedule.
pub async fn start(prefix: &str, env: &[(&str, &str)]) -> Api {
    let mut options = StackOptions::for_tests(prefix);
    options.parameter_overrides.insert("AllowedOrigins".into(), ORIGIN.into());
    let mut overrides = BTreeMap::from([
        ("MEDVAULT_DEV_ADMIN_EMAIL".to_owned(), ADMIN_EMAIL.to_owned()),
        ("MEDVAULT_DEV_ADMIN_PASSWORD".to_owned(), ADMIN_PASSWORD.to_owned()),
    ]);
    overrides.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    options.env_overrides = overrides;
    let stack = crate::stack_with(options).await;
    let secrets = aws_sdk_secretsmanager::Client::new(&crate::sdk_config().await);
    Api { stack, http: reqwest::Client::new(), secrets }
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").field("api_url", &self.stack.api_url()).finish_non_exhaustive()
    }
}

impl Api {
    pub fn physical(&self, logical_id: &str) -> String {
        self.stack.resource(logical_id).unwrap_or_else(|| panic!("no {logical_id}")).physical_id.clone()
    }

    /// Rotates the signing key as Secrets Manager does: RotateSecret labels a new version AWSPENDING (moto then
    /// fails to find the rotation Lambda, so the test runs it), then the function runs each step.
    pub async fn rotate(&self) {
        let secret = self.physical("JwtSigningKeySecret");
        let function_arn = self.stack.resource("SecretRotationFunction").unwrap().arn().unwrap().to_owned();
        let token = uuid::Uuid::new_v4().to_string();
        let started = self
            .secrets
            .rotate_secret()
            .secret_id(&secret)
            .client_request_token(&token)
            .rotation_lambda_arn(function_arn)
            .send()
            .await;
        if let Err(error) = started {
            let text = format!("{:?}", error);
            assert!(text.contains("ResourceNotFoundException"), "RotateSecret failed otherwise: {text}");
        }
        for step in ["create", "set", "test", "finish"] {
            let outcome = self.rotation_step(step, &secret, &token).await;
            assert!(outcome.is_ok(), "rotation step {step} failed: {outcome:?}");
        }
    }

    /// Invokes the rotation function with one step's event.
    pub async fn rotation_step(&self, step: &str, secret: &str, token: &str) -> Result<Value, String> {
        let mut event = crate::event(&format!("secretsmanager-rotation-{step}.json"));
        event["SecretId"] = json!(secret);
        event["ClientRequestToken"] = json!(token);
        let invocation = self.stack.invoke("SecretRotationFunction", event).await.expect("the function runs");
        invocation.result.map_err(|e| format!("{}: {}", e.error_type, e.error_message))
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self.http.request(method, format!("{}{path}", self.stack.api_url()));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the local API answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        Answer { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::Null) }
    }

    pub async fn post(&self, path: &str, bearer: Option<&str>, body: Value) -> Answer {
        self.call(reqwest::Method::POST, path, bearer, Some(body), &[]).await
    }

    pub async fn get(&self, path: &str, bearer: Option<&str>) -> Answer {
        self.call(reqwest::Method::GET, path, bearer, None, &[]).await
    }

    /// Signs in; panics unless tokens come back.
    pub async fn login(&self, email: &str, password: &str) -> Value {
        let answer = self.post("/v1/auth/login", None, json!({"email": email, "password": password})).await;
        assert_eq!(answer.status, 200, "login of {email}: {:?}", answer.body);
        assert!(answer.body["access_token"].is_string(), "{:?}", answer.body);
        answer.body
    }

    pub async fn admin_token(&self) -> String {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await["access_token"].as_str().unwrap().to_owned()
    }

    /// An admin-created user who accepted their invite: (id, email, password).
    pub async fn user(&self, roles: &[&str]) -> (String, String, String) {
        let admin = self.admin_token().await;
        let email = format!("{}@medvault.test", uuid::Uuid::new_v4().simple());
        let created = self.post("/v1/admin/users", Some(&admin), json!({"email": email, "roles": roles})).await;
        assert_eq!(created.status, 201, "{:?}", created.body);
        let password = format!("passphrase {}", uuid::Uuid::new_v4().simple());
        let accepted = self
            .post(
                "/v1/auth/invite/accept",
                None,
                json!({"invite_token": created.body["invite_token"], "password": password}),
            )
            .await;
        assert_eq!(accepted.status, 200, "{:?}", accepted.body);
        (created.body["id"].as_str().unwrap().to_owned(), email, password)
    }

    /// Events of the audit table with `action`.
    pub async fn audit_events(&self, action: &str) -> Vec<BTreeMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let dynamodb = aws_sdk_dynamodb::Client::new(&crate::sdk_config().await);
        let scan = dynamodb.scan().table_name(self.physical("AuditTable")).send().await.unwrap();
        scan.items()
            .iter()
            .filter(|item| item.get("action").and_then(|a| a.as_s().ok()).is_some_and(|a| a == action))
            .map(|item| item.clone().into_iter().collect())
            .collect()
    }
}

/// The claims of a JWT (unverified: for assertions only).
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWS");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The TOTP code of `secret` (base32) for `unix_time`, as an authenticator app computes it.
pub fn totp_code(secret: &str, unix_time: u64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret).unwrap();
    let totp = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret)
        .with_account_name("test")
        .build()
        .unwrap();
    totp.generate(unix_time).to_string()
}

pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}
