//! Shared setup of the local-stack tests: the fixture template, the fixture binary, a started stack.

use std::path::Path;
use std::sync::OnceLock;

use local_stack::{LocalStack, StackOptions};

/// Options for a stack of the fixture template, uniquely named after `prefix`.
pub fn options(prefix: &str) -> StackOptions {
    let mut options = StackOptions::for_tests(prefix);
    options.template = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/template.yaml");
    build_fixture_binary(&options);
    options
}

/// Starts a stack of the fixture template.
pub async fn start(prefix: &str) -> LocalStack {
    LocalStack::start(options(prefix)).await.expect("the fixture stack starts")
}

/// Builds `fixture-fn` (`cargo build -p test-lambda`) when it is missing or older than its source; `cargo xtask
/// test` builds every binary first, so this only runs cargo for a developer's bare `cargo test`.
fn build_fixture_binary(options: &StackOptions) {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let binary = options.bin_dir.join("fixture-fn");
        let crate_dir = local_stack::workspace_root().join("xtask/test-lambda");
        let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
        let newest_source =
            [crate_dir.join("src/main.rs"), crate_dir.join("Cargo.toml")].iter().filter_map(|p| modified(p)).max();
        if modified(&binary).is_some_and(|built| newest_source.is_none_or(|source| built >= source)) {
            return;
        }
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "--quiet", "-p", "test-lambda", "--bins"])
            .current_dir(local_stack::workspace_root())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the test-lambda fixture failed");
        assert!(binary.is_file(), "fixture-fn not in {}", options.bin_dir.display());
    });
}

/// How many captured lines of `function` contain `needle`.
pub fn count(stack: &LocalStack, function: &str, needle: &str) -> usize {
    stack.logs(function).iter().filter(|line| line.contains(needle)).count()
}
