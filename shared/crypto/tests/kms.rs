//! Data keys from KMS on the local emulator: a wrapped key unwraps only under its own patient's context, and a
//! warm key makes no KMS call.
#![allow(clippy::unwrap_used)] // Test fixtures: a failed setup call should stop the test loudly.

use std::sync::Arc;

use medvault_crypto::{Aad, CachePolicy, KeyContext, KeyError, KeyWrapper, KmsKeyWrapper, PatientKeys, open, seal};

async fn kms_key() -> (aws_sdk_kms::Client, String) {
    assert!(std::env::var_os("AWS_ENDPOINT_URL").is_some(), "AWS_ENDPOINT_URL must point at the emulator");
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
    let client = aws_sdk_kms::Client::new(&config);
    let key = client.create_key().description("medvault-crypto test").send().await.unwrap();
    let id = key.key_metadata.unwrap().key_id;
    (client, id)
}

const AAD: Aad<'static> = Aad { table: "records", item: "PATIENT#p-1|PROFILE", attribute: "name" };

#[tokio::test]
async fn a_kms_wrapped_key_opens_only_under_the_patients_own_context() {
    let (client, key_id) = kms_key().await;
    let wrapper = KmsKeyWrapper::new(client, key_id);
    let mine = KeyContext::new("t-1", "p-1", "medvault-records");
    let theirs = KeyContext::new("t-1", "p-2", "medvault-records");

    let (key, wrapped) = wrapper.generate(&mine).await.unwrap();
    let sealed = seal(&key, AAD, b"Jane Roe").unwrap();
    let unwrapped = wrapper.unwrap(&wrapped, &mine).await.unwrap();
    let refused = wrapper.unwrap(&wrapped, &theirs).await;

    assert_eq!(open(&unwrapped, AAD, &sealed).unwrap(), b"Jane Roe");
    assert!(matches!(refused, Err(KeyError::Refused(_))), "{refused:?}");
}

#[tokio::test]
async fn a_warm_patient_key_needs_no_kms_call() {
    // Arrange: the key is made through KMS, then KMS is made unreachable for this wrapper (a deleted key id).
    let (client, key_id) = kms_key().await;
    let keys = PatientKeys::new(Arc::new(KmsKeyWrapper::new(client.clone(), key_id)), CachePolicy::default());
    let context = KeyContext::new("t-1", "p-1", "medvault-records");
    let (_, wrapped) = keys.create(&context).await.unwrap();
    let cold = PatientKeys::new(Arc::new(KmsKeyWrapper::new(client, "alias/does-not-exist")), CachePolicy::default());

    // Act
    let warm = keys.get(&context, &wrapped).await;
    let without_cache = cold.get(&context, &wrapped).await;

    // Assert
    assert!(warm.is_ok());
    assert!(without_cache.is_err(), "a cold cache must go to KMS");
}
