//! Attacks on the auth API through the local stack: forged tokens, refresh-token theft, revoked sessions, weak and
//! breached passwords, guessing, replayed codes and challenges, phished passkeys, admin without a second factor.

use medvault_tests::auth as support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use reqwest::Method;
use serde_json::{Value, json};
use support::{ADMIN_EMAIL, ADMIN_PASSWORD, ORIGIN, claims, now, start, totp_code};
use webauthn_authenticator_rs::AuthenticatorBackend;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};
use webauthn_authenticator_rs::softtoken::SoftToken;

/// The stack's current private signing key, read from its secret as an attacker who stole it could: the signature
/// is then valid, and only the claims under test can make a token fail.
async fn stolen_signing_key(api: &support::Api) -> (EncodingKey, String) {
    // The stage is named: moto answers an unnamed one with the secret's first version, not AWSCURRENT.
    let secret = api
        .secrets
        .get_secret_value()
        .secret_id(api.physical("JwtSigningKeySecret"))
        .version_stage("AWSCURRENT")
        .send()
        .await
        .unwrap();
    let stored: Value = serde_json::from_str(secret.secret_string().unwrap()).unwrap();
    let pkcs8 = URL_SAFE_NO_PAD.decode(stored["private_key"].as_str().unwrap()).unwrap();
    (EncodingKey::from_ed_der(&pkcs8), stored["kid"].as_str().unwrap().to_owned())
}

fn sign(header: &Value, claims: &Value, key: &EncodingKey, alg: Algorithm) -> String {
    let message =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).unwrap();
    format!("{message}.{signature}")
}

#[tokio::test]
async fn forged_access_tokens_are_refused() {
    let api = start("auth-forgery", &[]).await;
    let tokens = api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let real = claims(tokens["access_token"].as_str().unwrap());
    let (key, kid) = stolen_signing_key(&api).await;
    let header = json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid});
    let me = |token: String| {
        let api = &api;
        async move { api.get("/v1/auth/me", Some(&token)).await.status }
    };
    // Control: re-signing the real claims with the real key is accepted, so each refusal below is the mutation's.
    assert_eq!(me(sign(&header, &real, &key, Algorithm::EdDSA)).await, 200);

    let with = |name: &str, value: Value| {
        let mut claims = real.clone();
        claims[name] = value;
        claims
    };
    let without = |name: &str| {
        let mut claims = real.clone();
        claims.as_object_mut().unwrap().remove(name);
        claims
    };
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "at+jwt", "kid": kid}).to_string()),
        URL_SAFE_NO_PAD.encode(real.to_string())
    );
    let public_x = api.get("/.well-known/jwks.json", None).await.body["keys"][0]["x"].as_str().unwrap().to_owned();
    let hs256_with_public_key = sign(
        &json!({"alg": "HS256", "typ": "at+jwt", "kid": kid}),
        &real,
        &EncodingKey::from_secret(public_x.as_bytes()),
        Algorithm::HS256,
    );
    let mut tampered: Vec<String> = tokens["access_token"].as_str().unwrap().split('.').map(str::to_owned).collect();
    tampered[1] = URL_SAFE_NO_PAD.encode(with("roles", json!(["admin", "auditor"])).to_string());
    let other_key = medvault_auth::keys::SigningKey::generate().unwrap();
    let other = json!({"alg": "EdDSA", "typ": "at+jwt", "kid": other_key.kid()});
    let other_pkcs8: Value = serde_json::from_str(&other_key.to_secret_json()).unwrap();
    let other_encoding =
        EncodingKey::from_ed_der(&URL_SAFE_NO_PAD.decode(other_pkcs8["private_key"].as_str().unwrap()).unwrap());

    let cases: Vec<(&str, String)> = vec![
        ("alg none", unsigned),
        ("HS256 keyed with the public key", hs256_with_public_key),
        ("tampered payload", tampered.join(".")),
        ("expired", sign(&header, &with("exp", json!(now() - 60)), &key, Algorithm::EdDSA)),
        ("exp as a string", sign(&header, &with("exp", json!((now() + 600).to_string())), &key, Algorithm::EdDSA)),
        ("no exp", sign(&header, &without("exp"), &key, Algorithm::EdDSA)),
        ("no aud", sign(&header, &without("aud"), &key, Algorithm::EdDSA)),
        ("wrong aud", sign(&header, &with("aud", json!("another-api")), &key, Algorithm::EdDSA)),
        ("no iss", sign(&header, &without("iss"), &key, Algorithm::EdDSA)),
        ("wrong iss", sign(&header, &with("iss", json!("https://evil.example")), &key, Algorithm::EdDSA)),
        ("no sub", sign(&header, &without("sub"), &key, Algorithm::EdDSA)),
        ("typ JWT", sign(&json!({"alg": "EdDSA", "typ": "JWT", "kid": kid}), &real, &key, Algorithm::EdDSA)),
        ("no kid", sign(&json!({"alg": "EdDSA", "typ": "at+jwt"}), &real, &key, Algorithm::EdDSA)),
        ("unknown kid, own key", sign(&other, &real, &other_encoding, Algorithm::EdDSA)),
        (
            "path-like kid",
            sign(
                &json!({"alg": "EdDSA", "typ": "at+jwt", "kid": "../../../etc/passwd"}),
                &real,
                &key,
                Algorithm::EdDSA,
            ),
        ),
        (
            "jku header",
            sign(
                &json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid, "jku": "https://evil.example/jwks.json"}),
                &real,
                &key,
                Algorithm::EdDSA,
            ),
        ),
        (
            "embedded jwk",
            sign(
                &json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid, "jwk": other_key.public().to_jwk()}),
                &real,
                &key,
                Algorithm::EdDSA,
            ),
        ),
        ("refresh token as access token", tokens["refresh_token"].as_str().unwrap().to_owned()),
    ];
    for (case, token) in cases {
        let status = me(token).await;
        assert_eq!(status, 401, "{case} was not refused");
    }
}

#[tokio::test]
async fn a_reused_refresh_token_revokes_its_whole_family_and_is_audited() {
    let api = start("auth-reuse", &[]).await;
    let first = api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let second = api.post("/v1/auth/refresh", None, json!({"refresh_token": first["refresh_token"]})).await;
    assert_eq!(second.status, 200);

    let replay = api.post("/v1/auth/refresh", None, json!({"refresh_token": first["refresh_token"]})).await;

    assert_eq!(replay.status, 401);
    let successor = api.post("/v1/auth/refresh", None, json!({"refresh_token": second.body["refresh_token"]})).await;
    assert_eq!(successor.status, 401, "the legitimate holder's newer token died with the family");
    let reuse = api.audit_events("auth.refresh.reuse").await;
    assert_eq!(reuse.len(), 1);
    let sid = claims(first["access_token"].as_str().unwrap())["sid"].as_str().unwrap().to_owned();
    assert_eq!(reuse[0]["resource"].as_s().unwrap(), &format!("session:{sid}"));
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions_and_sign_ins() {
    let api = start("auth-disable", &[]).await;
    let (id, email, password) = api.user(&["clinician"]).await;
    let session = api.login(&email, &password).await;
    let admin = api.admin_token().await;

    let disabled = api
        .call(Method::PATCH, &format!("/v1/admin/users/{id}"), Some(&admin), Some(json!({"disabled": true})), &[])
        .await;

    assert_eq!(disabled.status, 200, "{:?}", disabled.body);
    assert_eq!(disabled.body["status"], "disabled");
    assert_eq!(
        api.post("/v1/auth/refresh", None, json!({"refresh_token": session["refresh_token"]})).await.status,
        401
    );
    assert_eq!(api.get("/v1/auth/me", session["access_token"].as_str()).await.status, 401);
    assert_eq!(api.post("/v1/auth/login", None, json!({"email": email, "password": password})).await.status, 401);
    let me = claims(&admin)["sub"].as_str().unwrap().to_owned();
    let self_disable = api
        .call(Method::PATCH, &format!("/v1/admin/users/{me}"), Some(&admin), Some(json!({"disabled": true})), &[])
        .await;
    assert_eq!(self_disable.status, 409, "an admin cannot lock themselves out");
}

#[tokio::test]
async fn password_length_and_breach_rules_hold() {
    let api = start("auth-password-rules", &[]).await;
    let admin = api.admin_token().await;
    let created =
        api.post("/v1/admin/users", Some(&admin), json!({"email": "rules@medvault.test", "roles": ["staff"]})).await;
    let invite = created.body["invite_token"].clone();
    let accept = |password: String| {
        let api = &api;
        let invite = invite.clone();
        async move { api.post("/v1/auth/invite/accept", None, json!({"invite_token": invite, "password": password})).await }
    };

    for (password, why) in
        [("x".repeat(11), "11 characters"), ("x".repeat(129), "129 characters"), ("1qaz2wsx3edc".into(), "breached")]
    {
        let refused = accept(password).await;
        assert_eq!(refused.status, 422, "{why}: {:?}", refused.body);
    }
    assert!(accept("x".repeat(129)).await.body["detail"].as_str().unwrap().contains("at most 128"));
    assert!(accept("QWERTY123456".into()).await.body["detail"].as_str().unwrap().contains("breached"));
    let twelve = "twelve chars";
    assert_eq!(twelve.chars().count(), 12);
    assert_eq!(accept(twelve.into()).await.status, 200, "12 characters are enough (and the refusals kept the invite)");

    let access = api.login("rules@medvault.test", twelve).await["access_token"].as_str().unwrap().to_owned();
    let long: String = "ä".repeat(128);
    let changed =
        api.post("/v1/auth/password", Some(&access), json!({"current_password": twelve, "new_password": long})).await;
    assert_eq!(changed.status, 204, "128 characters of any script: {:?}", changed.body);
    api.login("rules@medvault.test", &long).await;
}

#[tokio::test]
async fn failed_sign_ins_are_throttled_alike_for_real_and_unknown_accounts() {
    let api = start("auth-throttle", &[]).await;
    let (_, email, password) = api.user(&["staff"]).await;

    for account in [email.as_str(), "nobody.at.all@medvault.test"] {
        let mut statuses = Vec::new();
        for _ in 0..6 {
            statuses.push(
                api.post("/v1/auth/login", None, json!({"email": account, "password": "wrong password!!"}))
                    .await
                    .status,
            );
        }
        assert_eq!(statuses, [401; 6], "{account}: six failures, the sixth starting a delay");
        let locked = api.post("/v1/auth/login", None, json!({"email": account, "password": "wrong password!!"})).await;
        assert_eq!(locked.status, 429, "{account}");
        let retry: u64 = locked.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=30).contains(&retry), "{retry}");
        assert_eq!(locked.body["type"], "urn:medvault:problem:too-many-requests");
    }
    let right_password = api.post("/v1/auth/login", None, json!({"email": email, "password": password})).await;
    assert_eq!(right_password.status, 429, "even the right password waits out the delay");
    let unknown =
        api.post("/v1/auth/login", None, json!({"email": "other@medvault.test", "password": "wrong password!!"})).await;
    let wrong = api.post("/v1/auth/login", None, json!({"email": ADMIN_EMAIL, "password": "wrong password!!"})).await;
    assert_eq!((unknown.status, wrong.status), (401, 401));
    assert_eq!(unknown.body["detail"], wrong.body["detail"], "one generic message");
}

#[tokio::test]
async fn a_totp_code_is_accepted_once() {
    let api = start("auth-totp-replay", &[]).await;
    let (_, email, password) = api.user(&["clinician"]).await;
    let access = api.login(&email, &password).await["access_token"].as_str().unwrap().to_owned();
    let secret = api.post("/v1/auth/mfa/totp/enroll", Some(&access), json!({})).await.body["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let confirm =
        api.post("/v1/auth/mfa/totp/confirm", Some(&access), json!({"code": totp_code(&secret, now())})).await;
    assert_eq!(confirm.status, 200);
    let code = totp_code(&secret, now() + 30);

    let first = api.post("/v1/auth/login", None, json!({"email": email, "password": password})).await;
    let used = api.post("/v1/auth/mfa/totp", None, json!({"mfa_token": first.body["mfa_token"], "code": code})).await;
    assert_eq!(used.status, 200, "{:?}", used.body);
    let second = api.post("/v1/auth/login", None, json!({"email": email, "password": password})).await;
    let replayed =
        api.post("/v1/auth/mfa/totp", None, json!({"mfa_token": second.body["mfa_token"], "code": code})).await;

    assert_eq!(replayed.status, 401);
    let failures = api.audit_events("auth.mfa").await;
    assert!(failures.iter().any(|e| e.get("reason").and_then(|r| r.as_s().ok()).is_some_and(|r| r == "replayed-code")));
}

/// A user with one passkey held by the returned soft authenticator, and their password sign-in's MFA token.
async fn passkey_user(api: &support::Api) -> (SoftToken, String, String) {
    let (_, email, password) = api.user(&["clinician"]).await;
    let access = api.login(&email, &password).await["access_token"].as_str().unwrap().to_owned();
    // `true`: the soft token reports user verification (it has no PIN or biometric to check), as passkeys require.
    let (mut token, _) = SoftToken::new(true).unwrap();
    let start = api.post("/v1/auth/webauthn/register/start", Some(&access), json!({})).await;
    let options: CreationChallengeResponse = serde_json::from_value(start.body["options"].clone()).unwrap();
    let credential = token.do_registration(Url::parse(ORIGIN).unwrap(), options).unwrap();
    let finish = api
        .post(
            "/v1/auth/webauthn/register/finish",
            Some(&access),
            json!({"challenge_id": start.body["challenge_id"], "credential": credential}),
        )
        .await;
    assert_eq!(finish.status, 200, "{:?}", finish.body);
    (token, email, password)
}

async fn passkey_challenge(api: &support::Api, email: &str, password: &str) -> (String, RequestChallengeResponse) {
    let login = api.post("/v1/auth/login", None, json!({"email": email, "password": password})).await;
    let start = api.post("/v1/auth/webauthn/login/start", None, json!({"mfa_token": login.body["mfa_token"]})).await;
    assert_eq!(start.status, 200, "{:?}", start.body);
    (
        start.body["challenge_id"].as_str().unwrap().to_owned(),
        serde_json::from_value(start.body["options"].clone()).unwrap(),
    )
}

#[tokio::test]
async fn a_passkey_assertion_for_another_origin_is_refused() {
    let api = start("auth-webauthn-origin", &[]).await;
    let (mut token, email, password) = passkey_user(&api).await;
    let (challenge_id, options) = passkey_challenge(&api, &email, &password).await;

    // The raw authenticator signs whatever origin it is given: a phishing page's, here.
    let phished = token.perform_auth(Url::parse("https://evil.example").unwrap(), options.public_key, 60_000).unwrap();
    let finish = api
        .post("/v1/auth/webauthn/login/finish", None, json!({"challenge_id": challenge_id, "credential": phished}))
        .await;

    assert_eq!(finish.status, 401, "{:?}", finish.body);
    assert!(finish.body.get("access_token").is_none());
}

#[tokio::test]
async fn a_passkey_challenge_cannot_be_replayed() {
    let api = start("auth-webauthn-replay", &[]).await;
    let (mut token, email, password) = passkey_user(&api).await;
    let (challenge_id, options) = passkey_challenge(&api, &email, &password).await;
    let assertion = token.do_authentication(Url::parse(ORIGIN).unwrap(), options).unwrap();
    let body = json!({"challenge_id": challenge_id, "credential": assertion});
    assert_eq!(api.post("/v1/auth/webauthn/login/finish", None, body.clone()).await.status, 200);

    let replayed = api.post("/v1/auth/webauthn/login/finish", None, body).await;

    assert_eq!(replayed.status, 400, "{:?}", replayed.body);
    assert!(replayed.body.get("access_token").is_none());
}

#[tokio::test]
async fn admin_routes_need_a_second_factor_outside_dev_mode() {
    let api = start("auth-admin-mfa", &[("MEDVAULT_ADMIN_MFA", "required")]).await;
    let password_only = api.admin_token().await;

    let refused = api.get("/v1/admin/users", Some(&password_only)).await;

    assert_eq!(refused.status, 403, "{:?}", refused.body);
    assert!(refused.body["detail"].as_str().unwrap().contains("second factor"));
    let secret = api.post("/v1/auth/mfa/totp/enroll", Some(&password_only), json!({})).await.body["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        api.post("/v1/auth/mfa/totp/confirm", Some(&password_only), json!({"code": totp_code(&secret, now())}))
            .await
            .status,
        200
    );
    let login = api.post("/v1/auth/login", None, json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).await;
    let with_otp = api
        .post(
            "/v1/auth/mfa/totp",
            None,
            json!({"mfa_token": login.body["mfa_token"], "code": totp_code(&secret, now() + 30)}),
        )
        .await;
    assert_eq!(with_otp.status, 200, "{:?}", with_otp.body);
    let allowed = api.get("/v1/admin/users", with_otp.body["access_token"].as_str()).await;
    assert_eq!(allowed.status, 200);
    let denied = api.audit_events("access.denied").await;
    assert!(denied.iter().any(|e| e.get("reason").and_then(|r| r.as_s().ok()).is_some_and(|r| r == "mfa-required")));
}
