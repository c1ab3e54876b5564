//! Running a package manager: in a throwaway folder, with a scrubbed environment, install scripts
//! off (each manager module adds its own flag), a timeout and a cap on what it may print.

use super::{RelockError, Relocker};
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a package manager may run and how much it may print (stdout and stderr together).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub timeout: Duration,
    pub output_cap: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            timeout: super::DEFAULT_TIMEOUT,
            output_cap: 8 * 1024 * 1024,
        }
    }
}

/// How much of stderr a failure note quotes.
const TAIL_BYTES: usize = 1500;

/// Variables passed through from patchwright's own environment: certificate bundles and proxies
/// (needed to reach a registry at all), and rustup's home (cargo is usually a rustup proxy that
/// must find its toolchains). Nothing else: no tokens, no `NPM_CONFIG_*`, no `CARGO_*`.
const PASS_THROUGH: [&str; 12] = [
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
    "CARGO_HTTP_CAINFO",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "RUSTUP_TOOLCHAIN",
    "RUSTUP_AUTO_INSTALL",
];

/// One working copy: `repo/` holds the files, `home/` is the package manager's HOME (its caches
/// and config), both inside a temporary folder the caller removes.
pub(crate) struct Context {
    pub repo: PathBuf,
    pub home: PathBuf,
    pub program: PathBuf,
    pub limits: Limits,
    pub registries: super::Registries,
    base_env: Vec<(OsString, OsString)>,
}

/// What a finished run printed (the tails only).
#[derive(Debug)]
pub(crate) struct Output {
    pub status: ExitStatus,
    /// All of stdout, for [`Context::capture`] (empty otherwise).
    pub stdout: String,
    pub stdout_tail: String,
    pub stderr_tail: String,
}

impl Context {
    pub fn new(work: &Path, program: PathBuf, relocker: &Relocker) -> std::io::Result<Context> {
        let repo = work.join("repo");
        let home = work.join("home");
        std::fs::create_dir_all(&repo)?;
        std::fs::create_dir_all(home.join("tmp"))?;
        let mut base_env: Vec<(OsString, OsString)> = vec![
            ("PATH".into(), relocker.path.clone()),
            ("HOME".into(), home.clone().into()),
            ("TMPDIR".into(), home.join("tmp").into()),
            ("LANG".into(), "C.UTF-8".into()),
        ];
        for name in PASS_THROUGH {
            if let Some(value) = std::env::var_os(name) {
                base_env.push((name.into(), value));
            }
        }
        let rustup_home = std::env::var_os("RUSTUP_HOME").or_else(|| {
            let default = PathBuf::from(std::env::var_os("HOME")?).join(".rustup");
            default.is_dir().then(|| default.into_os_string())
        });
        if let Some(value) = rustup_home {
            base_env.push(("RUSTUP_HOME".into(), value));
        }
        Ok(Context {
            repo,
            home,
            program,
            limits: relocker.limits,
            registries: relocker.registries.clone(),
            base_env,
        })
    }

    /// Writes a repository file into the working copy.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), RelockError> {
        let path = self.repo.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, bytes)?;
        Ok(())
    }

    /// Reads a working-copy file back as text.
    pub fn read(&self, rel: &str) -> Result<String, RelockError> {
        let bytes = std::fs::read(self.repo.join(rel))?;
        String::from_utf8(bytes)
            .map_err(|_| RelockError::Io(format!("{rel} is not UTF-8 after the re-lock")))
    }

    /// The command line as a person would type it, for notes and errors.
    pub fn describe(&self, args: &[&str]) -> String {
        let tool = self
            .program
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        std::iter::once(tool.as_str())
            .chain(args.iter().copied())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Runs the package manager in `cwd` (a folder of the working copy) and fails unless it exits
    /// with success.
    pub fn run(
        &self,
        cwd: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Output, RelockError> {
        let output = self.spawn(cwd, args, env)?;
        if output.status.success() {
            Ok(output)
        } else {
            Err(RelockError::Failed {
                command: self.describe(args),
                status: status_text(output.status),
                stderr_tail: tail_of_both(&output),
            })
        }
    }

    /// Runs the package manager's own check of the result: a failure says the re-locked `file`
    /// could not be verified, with the check's error as the detail.
    pub fn verify(
        &self,
        cwd: &str,
        args: &[&str],
        env: &[(&str, &str)],
        file: &str,
    ) -> Result<(), RelockError> {
        self.run(cwd, args, env)
            .map(drop)
            .map_err(|e| RelockError::Unverified {
                file: file.to_string(),
                detail: e.to_string(),
            })
    }

    /// Runs the package manager and returns whatever it exited with; only the timeout and the
    /// output cap are errors.
    pub fn spawn(
        &self,
        cwd: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Output, RelockError> {
        self.spawn_keeping(cwd, args, env, false)
    }

    /// Like [`Context::spawn`], keeping all of stdout (up to the output cap) for a command whose
    /// answer is its output (`npm view … --json`).
    pub fn capture(
        &self,
        cwd: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Output, RelockError> {
        self.spawn_keeping(cwd, args, env, true)
    }

    fn spawn_keeping(
        &self,
        cwd: &str,
        args: &[&str],
        env: &[(&str, &str)],
        keep_stdout: bool,
    ) -> Result<Output, RelockError> {
        let mut command = Command::new(&self.program);
        command
            .args(args)
            .current_dir(self.repo.join(cwd))
            .env_clear()
            .envs(self.base_env.iter().map(|(k, v)| (k, v)))
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Its own process group, so a timeout stops the helpers it started too.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command.spawn()?;
        let total = Arc::new(AtomicUsize::new(0));
        let over = Arc::new(AtomicBool::new(false));
        let cap = self.limits.output_cap;
        let readers: Vec<_> = [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .enumerate()
        .map(|(index, stream)| {
            let (total, over) = (Arc::clone(&total), Arc::clone(&over));
            let keep_all = keep_stdout && index == 0;
            std::thread::spawn(move || {
                let mut tail: Vec<u8> = Vec::new();
                let Some(mut stream) = stream else {
                    return tail;
                };
                let mut buf = [0u8; 8192];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if total.fetch_add(n, Ordering::Relaxed) + n > cap {
                        over.store(true, Ordering::Relaxed);
                    }
                    tail.extend_from_slice(&buf[..n]);
                    if !keep_all && tail.len() > 2 * TAIL_BYTES {
                        tail.drain(..tail.len() - TAIL_BYTES);
                    }
                }
                tail
            })
        })
        .collect();

        let deadline = Instant::now() + self.limits.timeout;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break Ok(status);
            }
            if over.load(Ordering::Relaxed) {
                break Err(RelockError::OutputTooLarge {
                    command: self.describe(args),
                    limit: cap,
                });
            }
            if Instant::now() >= deadline {
                break Err(RelockError::TimedOut {
                    command: self.describe(args),
                    seconds: self.limits.timeout.as_secs(),
                });
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        if status.is_err() {
            stop_group(&mut child);
        }
        let outputs: Vec<Vec<u8>> = readers
            .into_iter()
            .map(|r| r.join().unwrap_or_default())
            .collect();
        let tails: Vec<String> = outputs
            .iter()
            .map(|bytes| {
                let start = bytes.len().saturating_sub(TAIL_BYTES);
                String::from_utf8_lossy(&bytes[start..]).trim().to_string()
            })
            .collect();
        let status = status?;
        let stdout = match outputs.first() {
            Some(all) if keep_stdout => String::from_utf8_lossy(all).into_owned(),
            _ => String::new(),
        };
        Ok(Output {
            status,
            stdout,
            stdout_tail: tails.first().cloned().unwrap_or_default(),
            stderr_tail: tails.get(1).cloned().unwrap_or_default(),
        })
    }
}

/// Kills the child's whole process group, then reaps the child.
fn stop_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    if let Some(group) = i32::try_from(child.id())
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        // The child leads its own group (`process_group(0)` above), so this reaches the helpers
        // it started and nothing else.
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn status_text(status: ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("status {code}"),
        None => "a signal".to_string(),
    }
}

/// The stderr tail, or stdout's when stderr said nothing (some tools report errors there).
pub(crate) fn tail_of_both(output: &Output) -> String {
    let text = if output.stderr_tail.is_empty() {
        &output.stdout_tail
    } else {
        &output.stderr_tail
    };
    let lines: Vec<&str> = text.lines().rev().take(12).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join("\n")
}
