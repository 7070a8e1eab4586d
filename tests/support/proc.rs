//! Processes and ports of the test servers: finding a server's program,
//! running a tool, finding a server's children (OpenSSH and Dovecot fork
//! sessions that outlive their master), signalling them, and telling
//! whether a port is open.

use std::error::Error;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// A server's program, by absolute path (sshd refuses to re-exec
/// otherwise): the file the variable `var` names when it is set (another
/// build, or a missing one to see what a test does without the server),
/// else `fixed` when it is there, else the first `name` on `PATH`. The
/// error says where it was looked for.
pub fn program(var: &str, fixed: &str, name: &str) -> std::result::Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(var).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_absolute() && path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "{var}={} is not a file by absolute path",
                path.display()
            ))
        };
    }
    let fixed = PathBuf::from(fixed);
    if fixed.is_file() {
        return Ok(fixed);
    }
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|d| d.join(name))
                .find(|p| p.is_absolute() && p.is_file())
        })
        .ok_or_else(|| format!("{name} is neither {} nor on PATH", fixed.display()))
}

pub fn run(cmd: &mut Command) -> Result<String> {
    let out = cmd.stdin(Stdio::null()).output()?;
    if !out.status.success() {
        return Err(format!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// The parent of each process, from /proc.
pub fn parents() -> Vec<(u32, u32)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": comm may hold anything, so read
        // after its last parenthesis.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|s| s.parse().ok()) {
            out.push((pid, ppid));
        }
    }
    out
}

/// Every process descending from `root`.
pub fn descendants(root: u32) -> Vec<u32> {
    let all = parents();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        for &(pid, ppid) in &all {
            if ppid == parent && !found.contains(&pid) {
                found.push(pid);
            }
        }
        i += 1;
    }
    found.remove(0);
    found
}

pub fn signal(signal: &str, pids: &[u32]) {
    if pids.is_empty() {
        return;
    }
    let _ = Command::new("kill")
        .arg(signal)
        .arg("--")
        .args(pids.iter().map(u32::to_string))
        .stderr(Stdio::null())
        .status();
}

/// True when something accepts connections on `port`.
pub fn listening(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// Kills a server and every process it forked (OpenSSH and Dovecot leave
/// sessions that outlive their master), and waits for it.
pub fn kill_tree(child: &mut std::process::Child) {
    let pid = child.id();
    // Frozen, the master forks nothing while its children are counted.
    signal("-STOP", &[pid]);
    let mut all = descendants(pid);
    all.push(pid);
    signal("-KILL", &all);
    let _ = child.kill();
    let _ = child.wait();
}
