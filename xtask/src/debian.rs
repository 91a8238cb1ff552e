//! Debian packages the tests need (`infra/local/debian-packages.txt`): installed when missing and running as root,
//! otherwise named in a clear error.

use std::process::Command;

use anyhow::{Context, bail};

use crate::workspace::{self, run};

/// The package names listed in `infra/local/debian-packages.txt` (one per line, `#` comments).
pub fn packages() -> anyhow::Result<Vec<String>> {
    let path = workspace::root().join("infra/local/debian-packages.txt");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

/// Installs whichever of `packages` is missing.
pub fn ensure(packages: &[String]) -> anyhow::Result<()> {
    let missing: Vec<&String> = packages.iter().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
    if Command::new("apt-get").arg("--version").output().is_err() {
        bail!("these packages are needed and this is not a Debian system with apt-get: {}", names.join(" "));
    }
    if !is_root() {
        bail!("these Debian packages are needed; install them with: sudo apt-get install -y {}", names.join(" "));
    }
    eprintln!("xtask: installing Debian packages: {}", names.join(" "));
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&names)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
