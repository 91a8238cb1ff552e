//! The HTTP stack every medvault API function shares: one layer stack, problem+json errors, a JSON extractor whose
//! rejections are problems, health and readiness, OpenAPI, and serving the router to API Gateway and ALB alike.

pub mod config;
pub mod health;
pub mod json;
pub mod layers;
pub mod openapi;
pub mod problem;
pub mod serve;

pub use config::HttpConfig;
pub use json::Json;
pub use problem::{ApiError, Problem, correlation_id};
pub use serve::{ApiService, serve};
