//! Project-local Python environments under `.venv/<name>`, installed from pinned requirement files.
//!
//! A stamp file holds the hash of the requirements it was built from; a changed pin reinstalls.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::workspace::{self, run};

/// A Python environment made from one requirements file.
#[derive(Debug, Clone)]
pub struct Venv {
    pub dir: PathBuf,
}

impl Venv {
    /// A program installed in the environment (`moto_server`, `cfn-lint`, ...).
    pub fn bin(&self, program: &str) -> PathBuf {
        self.dir.join("bin").join(program)
    }

    /// A command running `program` from the environment, with the environment's `bin` first on `PATH`.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin(program));
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![self.dir.join("bin")];
        paths.extend(std::env::split_paths(&path));
        if let Ok(joined) = std::env::join_paths(paths) {
            command.env("PATH", joined);
        }
        command.env("VIRTUAL_ENV", &self.dir);
        command
    }
}

/// The emulator and the IaC checkers (`infra/local/requirements.txt`).
pub fn ensure_tools() -> anyhow::Result<Venv> {
    ensure("tools", &workspace::root().join("infra/local/requirements.txt"))
}

/// Makes `.venv/<name>` from `requirements` unless it is already up to date.
pub fn ensure(name: &str, requirements: &Path) -> anyhow::Result<Venv> {
    let venv = Venv { dir: workspace::root().join(".venv").join(name) };
    let wanted = std::fs::read(requirements).with_context(|| format!("reading {}", requirements.display()))?;
    let stamp_path = venv.dir.join(".medvault-requirements");
    if std::fs::read(&stamp_path).ok().as_deref() == Some(&wanted[..]) && venv.bin("python").exists() {
        return Ok(venv);
    }
    let python = find_python()?;
    eprintln!("xtask: installing Python environment .venv/{name} from {}", requirements.display());
    if !venv.bin("python").exists() {
        run(Command::new(&python).args(["-m", "venv"]).arg(&venv.dir))?;
    }
    run(venv
        .command("python")
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(requirements))?;
    std::fs::write(&stamp_path, wanted).context("writing the requirements stamp")?;
    Ok(venv)
}

fn find_python() -> anyhow::Result<PathBuf> {
    for candidate in ["python3.11", "python3.12", "python3.13", "python3"] {
        let ok = Command::new(candidate).args(["-c", "import venv, sys; assert sys.version_info >= (3, 10)"]).output();
        if ok.is_ok_and(|o| o.status.success()) {
            return Ok(PathBuf::from(candidate));
        }
    }
    bail!("Python 3.10 or later with the venv module is needed (Debian: apt-get install python3 python3-venv)")
}
