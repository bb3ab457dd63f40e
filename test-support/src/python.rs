//! The Python interpreter of the interop tests: the repository's virtual environment
//! (`target/venv`, made by `.ci/setup` with upstream's pinned packages), or
//! `OPENEDX_EVENTS_PYTHON`; and running its scripts with a time limit.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::SETUP_HINT;

/// How long one script may run before it is killed.
pub const SCRIPT_TIMEOUT: Duration = Duration::from_secs(60);

/// The interpreter, checked once to run and to have upstream's `openedx-events`.
#[derive(Debug)]
pub struct Python {
    executable: PathBuf,
    openedx_events_version: Vec<u32>,
}

/// Where the interpreter is: `OPENEDX_EVENTS_PYTHON`, else the repository's virtual environment.
pub fn python_executable() -> PathBuf {
    match std::env::var_os("OPENEDX_EVENTS_PYTHON").filter(|path| !path.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/venv/bin/python"),
    }
}

/// The interpreter; panics, saying to run `.ci/setup`, when it is missing or lacks
/// `openedx-events`.
pub fn python() -> &'static Python {
    static PYTHON: OnceLock<Python> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let executable = python_executable();
        let probe =
            "import importlib.metadata as m, django, fastavro, openedx_events; print(m.version('openedx-events'))";
        let output = Command::new(&executable).args(["-c", probe]).output().unwrap_or_else(|e| {
            panic!("cannot run the interop tests' Python `{}` ({e}); {SETUP_HINT}", executable.display())
        });
        assert!(
            output.status.success(),
            "`{}` lacks upstream's packages: {}\n{SETUP_HINT}",
            executable.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
        let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        let openedx_events_version = version
            .split('.')
            .map(str::parse)
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("openedx-events version {version:?} is not numeric ({e})"));
        Python { executable, openedx_events_version }
    })
}

impl Python {
    /// The interpreter's path.
    pub fn executable(&self) -> &Path {
        &self.executable
    }

    /// The installed `openedx-events`' version, which Python sends as `sourcelib`.
    pub fn openedx_events_version(&self) -> &[u32] {
        &self.openedx_events_version
    }

    /// Panics, saying to run `.ci/setup`, unless every distribution (`edx-event-bus-redis`)
    /// is installed. Checked without importing: some need Django settings first.
    pub fn require(&self, distributions: &[&str]) {
        let probe = format!("import importlib.metadata as m\nfor name in {distributions:?}:\n    m.version(name)");
        let output = Command::new(&self.executable)
            .args(["-c", &probe])
            .output()
            .unwrap_or_else(|e| panic!("cannot run `{}`: {e}", self.executable.display()));
        assert!(
            output.status.success(),
            "`{}` lacks one of {distributions:?}: {}\n{SETUP_HINT}",
            self.executable.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }

    /// Runs the script at `path`, in `dir`, and returns what it printed on stdout; panics with
    /// its output if it fails or runs longer than [`SCRIPT_TIMEOUT`].
    pub fn run(&self, path: &Path, dir: &Path, args: &[&str]) -> String {
        let script = path.display();
        let mut child = Command::new(&self.executable)
            .arg(path)
            .args(args)
            .current_dir(dir)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run `{}` ({e}); {SETUP_HINT}", self.executable.display()));
        let drain = |mut pipe: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        };
        let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
        let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
        let deadline = Instant::now() + SCRIPT_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().expect("waiting for the script") {
                break Some(status);
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let (stdout, stderr) = (stdout.join().unwrap_or_default(), stderr.join().unwrap_or_default());
        match status {
            Some(status) if status.success() => stdout,
            Some(status) => panic!("{script} failed ({status})\n--- stdout\n{stdout}--- stderr\n{stderr}"),
            None => panic!("{script} ran longer than {SCRIPT_TIMEOUT:?}\n--- stdout\n{stdout}--- stderr\n{stderr}"),
        }
    }

    /// [`run`](Self::run), reading each line of stdout as JSON.
    pub fn run_json_lines(&self, path: &Path, dir: &Path, args: &[&str]) -> Vec<Value> {
        self.run(path, dir, args)
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{} printed {line:?}: {e}", path.display()))
            })
            .collect()
    }
}
