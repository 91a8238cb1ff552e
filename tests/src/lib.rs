//! Integration tests live in tests/*.rs; this library holds their shared fixtures.
