//! What authentication costs on the CPU: verifying an access token (every API request pays it; target < 50 µs),
//! a password sign-in (argon2id, for a known account and for an unknown one, which must cost the same), issuing a
//! token, and a refresh (new opaque token, its hash, a new access token). Store round trips are not included.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use medvault_auth::key_cache::{CachePolicy, KeyCache, StaticKeys};
use medvault_auth::keys::{KeySet, SigningKey};
use medvault_auth::otp::{opaque_token, token_hash};
use medvault_auth::password::{HashCost, NewPassword, Passwords};
use medvault_auth::{AuthMethod, Role, TokenAudience, TokenIssuer, TokenVerifier, UserId};

fn names() -> TokenAudience {
    TokenAudience { issuer: "urn:medvault:auth".into(), audience: "urn:medvault:api".into() }
}

fn verification(c: &mut Criterion) {
    let key = SigningKey::generate().expect("key");
    let previous = SigningKey::generate().expect("key");
    let keys = KeySet::new([key.public().clone(), previous.public().clone()]);
    let verifier =
        TokenVerifier::new(&names(), Arc::new(KeyCache::new(Arc::new(StaticKeys(keys)), CachePolicy::default())));
    let issuer = TokenIssuer::new(names(), Duration::from_secs(600));
    let token = issuer
        .issue(&key, UserId::new(), &[Role::Clinician], &[AuthMethod::Pwd, AuthMethod::Otp], "session")
        .expect("token")
        .token;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
    runtime.block_on(verifier.verify(&token)).expect("the token verifies");

    c.bench_function("verify access token (warm key cache)", |b| {
        b.iter(|| runtime.block_on(verifier.verify(black_box(&token))).expect("verifies"))
    });
    c.bench_function("issue access token", |b| {
        b.iter(|| issuer.issue(&key, UserId::new(), &[Role::Clinician], &[AuthMethod::Pwd], "s").expect("token"))
    });
    c.bench_function("refresh (new opaque token, hash, access token)", |b| {
        b.iter(|| {
            let refresh = opaque_token("mvr_").expect("random");
            black_box(token_hash(refresh.expose()));
            issuer.issue(&key, UserId::new(), &[Role::Clinician], &[AuthMethod::Pwd], "s").expect("token")
        })
    });
}

fn sign_in(c: &mut Criterion) {
    let passwords = Passwords::new(HashCost::OWASP_MINIMUM).expect("cost");
    let stored = passwords.hash(&NewPassword::parse("a long enough passphrase").expect("policy")).expect("hash");
    let mut group = c.benchmark_group("password sign-in (argon2id m=19 MiB t=2 p=1)");
    group.sample_size(20);
    group.bench_function("known account, right password", |b| {
        b.iter(|| assert!(passwords.verify(black_box("a long enough passphrase"), Some(&stored))))
    });
    group.bench_function("known account, wrong password", |b| {
        b.iter(|| assert!(!passwords.verify(black_box("not the passphrase!"), Some(&stored))))
    });
    group.bench_function("unknown account (dummy hash)", |b| {
        b.iter(|| assert!(!passwords.verify(black_box("not the passphrase!"), None)))
    });
    group.finish();
}

criterion_group!(benches, verification, sign_in);
criterion_main!(benches);
