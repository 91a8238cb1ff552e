//! A hello-world Rust Lambda (lambda_runtime, tokio), built with the same profile as medvault's functions: the
//! baseline of `cargo xtask bench cold-start`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(hello)).await
}

async fn hello(_event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(json!({ "statusCode": 200, "headers": { "content-type": "text/plain" }, "body": "hello" }))
}
