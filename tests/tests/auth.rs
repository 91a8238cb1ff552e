//! The auth API through the local stack: every route as a browser or a client calls it, the first signing key and
//! its rotations.

use medvault_tests::auth as support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{ADMIN_EMAIL, ADMIN_PASSWORD, ORIGIN, claims, now, start, totp_code};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};
use webauthn_authenticator_rs::softtoken::SoftToken;

#[tokio::test]
async fn the_rotated_key_is_published_and_served_as_a_jwks() {
    let api = start("auth-jwks", &[]).await;

    let jwks = api.get("/.well-known/jwks.json", None).await;

    assert_eq!(jwks.status, 200);
    let keys = jwks.body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{:?}", jwks.body);
    assert_eq!(
        (keys[0]["kty"].as_str(), keys[0]["crv"].as_str(), keys[0]["alg"].as_str()),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
    );
    assert!(keys[0].get("d").is_none(), "no private part is ever published");
    let token = api.admin_token().await;
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["kid"], keys[0]["kid"]);
    assert_eq!(header["typ"], "at+jwt");
}

#[tokio::test]
async fn a_session_signs_in_refreshes_reads_me_and_logs_out() {
    let api = start("auth-session", &[]).await;

    let tokens = api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["expires_in"].as_u64().unwrap() <= 900);
    let access = tokens["access_token"].as_str().unwrap();
    let me = api.get("/v1/auth/me", Some(access)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["email"], ADMIN_EMAIL);
    assert_eq!(me.body["roles"], json!(["admin"]));
    assert_eq!(me.body["mfa"], false);
    assert_eq!(me.headers["cache-control"], "no-store");
    let session = claims(access)["sid"].clone();

    let refreshed = api.post("/v1/auth/refresh", None, json!({"refresh_token": tokens["refresh_token"]})).await;
    assert_eq!(refreshed.status, 200, "{:?}", refreshed.body);
    assert_ne!(refreshed.body["refresh_token"], tokens["refresh_token"], "refresh tokens rotate");
    assert_eq!(claims(refreshed.body["access_token"].as_str().unwrap())["sid"], session, "same session");

    let logout = api.post("/v1/auth/logout", None, json!({"refresh_token": refreshed.body["refresh_token"]})).await;
    assert_eq!(logout.status, 204);
    let after = api.post("/v1/auth/refresh", None, json!({"refresh_token": refreshed.body["refresh_token"]})).await;
    assert_eq!(after.status, 401);
    let me_after = api.get("/v1/auth/me", refreshed.body["access_token"].as_str()).await;
    assert_eq!(me_after.status, 401, "the auth API refuses a logged-out session at once");
    assert!(!api.audit_events("auth.logout").await.is_empty());
}

#[tokio::test]
async fn admins_invite_list_and_change_users() {
    let api = start("auth-admin", &[]).await;
    let admin = api.admin_token().await;

    let email = "new.clinician@medvault.test";
    let created = api.post("/v1/admin/users", Some(&admin), json!({"email": email, "roles": ["clinician"]})).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let invite = created.body["invite_token"].clone();
    let duplicate = api.post("/v1/admin/users", Some(&admin), json!({"email": email, "roles": ["staff"]})).await;
    assert_eq!(duplicate.status, 409);

    let accepted = api
        .post("/v1/auth/invite/accept", None, json!({"invite_token": invite, "password": "a clinician's passphrase"}))
        .await;
    assert_eq!(accepted.status, 200, "{:?}", accepted.body);
    assert_eq!(accepted.body["status"], "active");
    let again = api
        .post("/v1/auth/invite/accept", None, json!({"invite_token": invite, "password": "another passphrase!"}))
        .await;
    assert_eq!(again.status, 401, "an invite works once");

    let listed = api.get("/v1/admin/users?limit=10", Some(&admin)).await;
    assert_eq!(listed.status, 200);
    let emails: Vec<&str> =
        listed.body["users"].as_array().unwrap().iter().filter_map(|u| u["email"].as_str()).collect();
    assert!(emails.contains(&email) && emails.contains(&ADMIN_EMAIL), "{emails:?}");

    let tokens = api.login(email, "a clinician's passphrase").await;
    assert_eq!(claims(tokens["access_token"].as_str().unwrap())["roles"], json!(["clinician"]));
    let changed = api
        .call(
            Method::PATCH,
            &format!("/v1/admin/users/{id}"),
            Some(&admin),
            Some(json!({"roles": ["clinician", "auditor"]})),
            &[],
        )
        .await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    assert_eq!(changed.body["roles"], json!(["clinician", "auditor"]));
    let refreshed = api.post("/v1/auth/refresh", None, json!({"refresh_token": tokens["refresh_token"]})).await;
    assert_eq!(claims(refreshed.body["access_token"].as_str().unwrap())["roles"], json!(["clinician", "auditor"]));
    let role_changes = api.audit_events("admin.user.update").await;
    assert!(
        role_changes
            .iter()
            .any(|e| e.get("reason").and_then(|r| r.as_s().ok()).is_some_and(|r| r.starts_with("roles:")))
    );

    let clinician_token = refreshed.body["access_token"].as_str().unwrap();
    let forbidden = api.get("/v1/admin/users", Some(clinician_token)).await;
    assert_eq!(forbidden.status, 403);
    assert!(!api.audit_events("access.denied").await.is_empty());
    let missing =
        api.call(Method::PATCH, "/v1/admin/users/not-a-user", Some(&admin), Some(json!({"disabled": true})), &[]).await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn totp_enrolment_then_sign_in_with_a_code_or_a_recovery_code() {
    let api = start("auth-totp", &[]).await;
    let (_, email, password) = api.user(&["clinician"]).await;
    let access = api.login(&email, &password).await["access_token"].as_str().unwrap().to_owned();

    let enrolment = api.post("/v1/auth/mfa/totp/enroll", Some(&access), json!({})).await;
    assert_eq!(enrolment.status, 200, "{:?}", enrolment.body);
    let secret = enrolment.body["secret"].as_str().unwrap().to_owned();
    assert!(enrolment.body["otpauth_uri"].as_str().unwrap().starts_with("otpauth://totp/medvault:"));
    let wrong = api.post("/v1/auth/mfa/totp/confirm", Some(&access), json!({"code": "000000"})).await;
    assert_eq!(wrong.status, 422);
    let confirmed =
        api.post("/v1/auth/mfa/totp/confirm", Some(&access), json!({"code": totp_code(&secret, now())})).await;
    assert_eq!(confirmed.status, 200, "{:?}", confirmed.body);
    let recovery: Vec<String> = serde_json::from_value(confirmed.body["recovery_codes"].clone()).unwrap();
    assert_eq!(recovery.len(), 10);
    assert_eq!(api.get("/v1/auth/me", Some(&access)).await.body["mfa_methods"], json!(["totp"]));

    let first = api.post("/v1/auth/login", None, json!({"email": email, "password": password})).await;
    assert_eq!(first.body["mfa_required"], true, "{:?}", first.body);
    assert_eq!(first.body["methods"], json!(["totp"]));
    assert!(first.body.get("access_token").is_none());
    // The confirmation used this step's code; the next step's is already accepted (one step of skew).
    let signed = api
        .post(
            "/v1/auth/mfa/totp",
            None,
            json!({"mfa_token": first.body["mfa_token"], "code": totp_code(&secret, now() + 30)}),
        )
        .await;
    assert_eq!(signed.status, 200, "{:?}", signed.body);
    assert_eq!(claims(signed.body["access_token"].as_str().unwrap())["amr"], json!(["pwd", "otp"]));

    let second = api.post("/v1/auth/login", None, json!({"email": email, "password": password})).await;
    let with_recovery =
        api.post("/v1/auth/mfa/totp", None, json!({"mfa_token": second.body["mfa_token"], "code": recovery[0]})).await;
    assert_eq!(with_recovery.status, 200, "{:?}", with_recovery.body);
    let third = api.post("/v1/auth/login", None, json!({"email": email, "password": password})).await;
    let reused =
        api.post("/v1/auth/mfa/totp", None, json!({"mfa_token": third.body["mfa_token"], "code": recovery[0]})).await;
    assert_eq!(reused.status, 401, "a recovery code works once");
}

/// Registers a passkey held by `token` for the user of `access`.
async fn register_passkey(api: &support::Api, access: &str, token: &mut SoftToken) {
    let start = api.post("/v1/auth/webauthn/register/start", Some(access), json!({})).await;
    assert_eq!(start.status, 200, "{:?}", start.body);
    let options: CreationChallengeResponse = serde_json::from_value(start.body["options"].clone()).unwrap();
    let credential = token.do_registration(Url::parse(ORIGIN).unwrap(), options).unwrap();
    let finish = api
        .post(
            "/v1/auth/webauthn/register/finish",
            Some(access),
            json!({"challenge_id": start.body["challenge_id"], "credential": credential}),
        )
        .await;
    assert_eq!(finish.status, 200, "{:?}", finish.body);
}

#[tokio::test]
async fn a_passkey_registers_and_completes_a_sign_in() {
    let api = start("auth-passkey", &[]).await;
    let (_, email, password) = api.user(&["staff"]).await;
    let access = api.login(&email, &password).await["access_token"].as_str().unwrap().to_owned();
    // `true`: the soft token reports user verification (it has no PIN or biometric to check), as passkeys require.
    let (mut token, _) = SoftToken::new(true).unwrap();

    register_passkey(&api, &access, &mut token).await;

    let login = api.post("/v1/auth/login", None, json!({"email": email, "password": password})).await;
    assert_eq!(login.body["methods"], json!(["webauthn"]), "{:?}", login.body);
    let start = api.post("/v1/auth/webauthn/login/start", None, json!({"mfa_token": login.body["mfa_token"]})).await;
    assert_eq!(start.status, 200, "{:?}", start.body);
    let options: RequestChallengeResponse = serde_json::from_value(start.body["options"].clone()).unwrap();
    let assertion = token.do_authentication(Url::parse(ORIGIN).unwrap(), options).unwrap();
    let finish = api
        .post(
            "/v1/auth/webauthn/login/finish",
            None,
            json!({"challenge_id": start.body["challenge_id"], "credential": assertion}),
        )
        .await;
    assert_eq!(finish.status, 200, "{:?}", finish.body);
    assert_eq!(claims(finish.body["access_token"].as_str().unwrap())["amr"], json!(["pwd", "hwk"]));
}

#[tokio::test]
async fn a_password_change_keeps_this_session_and_ends_the_others() {
    let api = start("auth-password", &[]).await;
    let (_, email, password) = api.user(&["auditor"]).await;
    let here = api.login(&email, &password).await;
    let elsewhere = api.login(&email, &password).await;
    let access = here["access_token"].as_str().unwrap();

    let wrong = api
        .post(
            "/v1/auth/password",
            Some(access),
            json!({"current_password": "not it at all", "new_password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(wrong.status, 401);
    let changed = api
        .post(
            "/v1/auth/password",
            Some(access),
            json!({"current_password": password, "new_password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(changed.status, 204, "{:?}", changed.body);

    assert_eq!(api.get("/v1/auth/me", Some(access)).await.status, 200);
    assert_eq!(api.post("/v1/auth/refresh", None, json!({"refresh_token": here["refresh_token"]})).await.status, 200);
    assert_eq!(
        api.post("/v1/auth/refresh", None, json!({"refresh_token": elsewhere["refresh_token"]})).await.status,
        401
    );
    assert_eq!(api.post("/v1/auth/login", None, json!({"email": email, "password": password})).await.status, 401);
    api.login(&email, "a brand new passphrase").await;
}

#[tokio::test]
async fn logout_all_ends_every_session() {
    let api = start("auth-logout-all", &[]).await;
    let (_, email, password) = api.user(&["staff"]).await;
    let one = api.login(&email, &password).await;
    let two = api.login(&email, &password).await;

    let done = api.post("/v1/auth/logout-all", one["access_token"].as_str(), json!({})).await;

    assert_eq!(done.status, 204);
    for session in [&one, &two] {
        assert_eq!(
            api.post("/v1/auth/refresh", None, json!({"refresh_token": session["refresh_token"]})).await.status,
            401
        );
    }
    assert_eq!(api.get("/v1/auth/me", two["access_token"].as_str()).await.status, 401);
}

#[tokio::test]
async fn a_browser_session_keeps_its_refresh_token_in_a_strict_cookie_guarded_against_csrf() {
    let api = start("auth-cookie", &[]).await;

    let login = api
        .post("/v1/auth/login", None, json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "cookie": true}))
        .await;

    assert_eq!(login.status, 200);
    assert!(login.body.get("refresh_token").is_none(), "{:?}", login.body);
    let csrf = login.body["csrf_token"].as_str().unwrap().to_owned();
    let set_cookie = login.headers["set-cookie"].to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/v1/auth"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let cookie = set_cookie.split(';').next().unwrap().to_owned();

    let forged = api.call(Method::POST, "/v1/auth/refresh", None, Some(json!({})), &[("cookie", &cookie)]).await;
    assert_eq!(forged.status, 403, "a cookie alone is not enough");
    let wrong = api
        .call(
            Method::POST,
            "/v1/auth/refresh",
            None,
            Some(json!({})),
            &[("cookie", &cookie), ("x-csrf-token", "mvx_guess")],
        )
        .await;
    assert_eq!(wrong.status, 403);
    let refreshed = api
        .call(Method::POST, "/v1/auth/refresh", None, Some(json!({})), &[("cookie", &cookie), ("x-csrf-token", &csrf)])
        .await;
    assert_eq!(refreshed.status, 200, "the forged attempts did not burn the token: {:?}", refreshed.body);
    let next_cookie = refreshed.headers["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    assert_ne!(next_cookie, cookie);

    let logout = api
        .call(
            Method::POST,
            "/v1/auth/logout",
            None,
            Some(json!({})),
            &[("cookie", &next_cookie), ("x-csrf-token", &csrf)],
        )
        .await;
    assert_eq!(logout.status, 204);
    assert!(logout.headers["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
}

#[tokio::test]
async fn the_bootstrap_token_creates_the_first_admin_once() {
    let api = start("auth-bootstrap", &[]).await;
    let setup = api.secrets.get_secret_value().secret_id(api.physical("BootstrapSecret")).send().await.unwrap();
    let setup = setup.secret_string().unwrap().to_owned();
    let body = |token: &str| json!({"setup_token": token, "email": "first.admin@medvault.test", "password": "first admin passphrase"});

    assert_eq!(api.post("/v1/auth/bootstrap", None, body("a guessed token of some length......")).await.status, 401);
    let created = api.post("/v1/auth/bootstrap", None, body(&setup)).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["roles"], json!(["admin"]));
    let again = api.post("/v1/auth/bootstrap", None, body(&setup)).await;
    assert_eq!(again.status, 410);

    api.login("first.admin@medvault.test", "first admin passphrase").await;
    assert!(!api.audit_events("auth.bootstrap").await.is_empty());
}

#[tokio::test]
async fn tokens_signed_before_a_rotation_verify_after_it_and_retired_keys_do_not() {
    // Keys are re-read every second so that the retirement shows without waiting five minutes.
    let api =
        start("auth-rotation", &[("MEDVAULT_JWT_KEY_CACHE_SECONDS", "1"), ("MEDVAULT_SIGNING_KEY_CACHE_SECONDS", "1")])
            .await;
    let first = api.admin_token().await;
    let first_kid = jwt_kid(&first);

    api.rotate().await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(api.get("/v1/auth/me", Some(&first)).await.status, 200, "the previous key still verifies");
    let second = api.admin_token().await;
    assert_ne!(jwt_kid(&second), first_kid, "new tokens are signed with the new key");
    let kids: Vec<String> = api.get("/.well-known/jwks.json", None).await.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kids.len(), 2);
    assert!(kids.contains(&first_kid));

    api.rotate().await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(api.get("/v1/auth/me", Some(&first)).await.status, 401, "the retired key no longer verifies");
    assert_eq!(api.get("/v1/auth/me", Some(&second)).await.status, 200);
}

/// The version of `secret` that holds `stage`.
async fn version_in_stage(api: &support::Api, secret: &str, stage: &str) -> String {
    api.secrets
        .describe_secret()
        .secret_id(secret)
        .send()
        .await
        .unwrap()
        .version_ids_to_stages
        .unwrap()
        .into_iter()
        .find(|(_, stages)| stages.iter().any(|s| s == stage))
        .unwrap()
        .0
}

#[tokio::test]
async fn rotation_steps_are_idempotent_and_refuse_unknown_or_finished_tokens() {
    let api = start("auth-rotation-steps", &[]).await;
    let secret = api.physical("JwtSigningKeySecret");

    let unknown = api.rotation_step("create", &secret, &uuid::Uuid::new_v4().to_string()).await;
    assert!(unknown.unwrap_err().contains("not a version"), "an unknown token is refused");
    let current = version_in_stage(&api, &secret, "AWSCURRENT").await;
    assert!(api.rotation_step("finish", &secret, &current).await.is_ok(), "finishing a finished rotation is a no-op");
    let previous = version_in_stage(&api, &secret, "AWSPREVIOUS").await;
    assert!(api.rotation_step("create", &secret, &previous).await.unwrap_err().contains("not AWSPENDING"));
    let other = api.rotation_step("create", &api.physical("BootstrapSecret"), &current).await;
    assert!(other.unwrap_err().contains("only the signing key"), "the function rotates one secret only");
}

#[tokio::test]
async fn the_openapi_document_lists_every_auth_route_with_its_security() {
    let api = start("auth-openapi", &[]).await;

    let doc = api.get("/openapi.json", None).await;

    assert_eq!(doc.status, 200);
    let paths = &doc.body["paths"];
    for (path, method, protected) in [
        ("/v1/auth/login", "post", false),
        ("/v1/auth/mfa/totp", "post", false),
        ("/v1/auth/mfa/totp/enroll", "post", true),
        ("/v1/auth/mfa/totp/confirm", "post", true),
        ("/v1/auth/webauthn/register/start", "post", true),
        ("/v1/auth/webauthn/register/finish", "post", true),
        ("/v1/auth/webauthn/login/start", "post", false),
        ("/v1/auth/webauthn/login/finish", "post", false),
        ("/v1/auth/refresh", "post", false),
        ("/v1/auth/logout", "post", false),
        ("/v1/auth/logout-all", "post", true),
        ("/v1/auth/password", "post", true),
        ("/v1/auth/me", "get", true),
        ("/v1/auth/invite/accept", "post", false),
        ("/v1/auth/bootstrap", "post", false),
        ("/v1/admin/users", "post", true),
        ("/v1/admin/users", "get", true),
        ("/v1/admin/users/{id}", "patch", true),
        ("/.well-known/jwks.json", "get", false),
    ] {
        let operation = &paths[path][method];
        assert!(operation.is_object(), "{method} {path} is missing");
        assert_eq!(operation["security"] == json!([{"bearer": []}]), protected, "{method} {path}");
    }
}

fn jwt_kid(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_owned()
}
