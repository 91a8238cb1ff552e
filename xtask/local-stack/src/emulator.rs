//! moto's server, the local AWS emulator, as a child process on a free loopback port.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::StackError;
use crate::runtime::kill_group;

/// How long moto may take to answer after starting (it imports every service's models on start).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running moto server. Dropping it kills it and its process group.
#[derive(Debug)]
pub struct Moto {
    child: tokio::process::Child,
    pid: u32,
    endpoint_url: String,
}

impl Moto {
    /// Starts `moto_server` on a free port of 127.0.0.1 and waits until it answers HTTP.
    pub async fn start(moto_server: &Path) -> Result<Moto, StackError> {
        let port = free_port()?;
        let mut child = tokio::process::Command::new(moto_server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .process_group(0)
            .spawn()
            .map_err(StackError::io(format!("cannot start {}", moto_server.display())))?;
        let pid = child.id().unwrap_or_default();
        let started = Instant::now();
        loop {
            if answers(port).await {
                return Ok(Moto { child, pid, endpoint_url: format!("http://127.0.0.1:{port}") });
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(StackError::Emulator(format!(
                    "{} exited before answering ({status})",
                    moto_server.display()
                )));
            }
            if started.elapsed() > START_TIMEOUT {
                kill_group(pid);
                return Err(StackError::Emulator(format!(
                    "moto did not answer on port {port} within {START_TIMEOUT:?}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL`.
    pub fn endpoint_url(&self) -> &str {
        &self.endpoint_url
    }

    /// Stops the server and waits for it to exit.
    pub async fn stop(mut self) {
        kill_group(self.pid);
        let _ = self.child.wait().await;
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        kill_group(self.pid);
    }
}

/// A port the kernel says is free now (bound and released; a race with another process is possible, and rare).
pub fn free_port() -> Result<u16, StackError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(StackError::io("no free loopback port"))?;
    Ok(listener.local_addr().map_err(StackError::io("no free loopback port"))?.port())
}

async fn answers(port: u16) -> bool {
    let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else { return false };
    if stream.write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").await.is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    matches!(tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut head)).await, Ok(Ok(_)))
        && head.starts_with(b"HTTP/")
}
