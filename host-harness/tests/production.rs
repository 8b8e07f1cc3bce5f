//! `serve --production` on the command line: it marks the state directory,
//! keeps the admin password only hashed, and from then on the CLI's `--dev`
//! is refused against that state (install, update and verify), with a
//! clear message, before anything is sent anywhere.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const HARNESS: &str = env!("CARGO_BIN_EXE_harness");

fn harness(state: &Path) -> Command {
    let mut c = Command::new(HARNESS);
    c.arg("--state-dir").arg(state);
    c
}

#[test]
fn serve_production_marks_the_state_and_the_cli_then_refuses_dev() {
    let state = tempfile::tempdir().unwrap();
    let password = state.path().join("admin-password");
    std::fs::write(&password, "a long admin passphrase\n").unwrap();
    let mut serve = harness(state.path())
        .args(["serve", "--production", "--listen", "127.0.0.1:0"])
        .arg("--admin-password-file")
        .arg(&password)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = serve.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut said = Vec::new();
    while !said.iter().any(|l: &String| l.contains("console at")) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => said.push(line),
            Err(_) => break,
        }
    }
    let _ = serve.kill();
    let _ = serve.wait();
    assert!(
        said.iter().any(|l| l.contains("console at")),
        "serve did not start: {said:?}"
    );
    assert!(
        said.iter().any(|l| l.contains("production mode")),
        "{said:?}"
    );
    // A chosen password is never printed, and kept only as an argon2 hash.
    assert!(!said.iter().any(|l| l.contains("a long admin passphrase")));
    let hash = std::fs::read_to_string(state.path().join("console-admin.phc")).unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains("passphrase"));
    assert!(state.path().join("production").exists());

    for args in [
        vec![
            "install",
            "--name",
            "local",
            "--domain",
            "http://127.0.0.1:9",
            "--dev",
        ],
        vec![
            "update",
            "--name",
            "local",
            "--domain",
            "http://127.0.0.1:9",
            "--dev",
        ],
        vec![
            "verify",
            "--name",
            "local",
            "--domain",
            "http://127.0.0.1:9",
            "--dev",
        ],
    ] {
        let out = harness(state.path())
            .args(&args)
            .env("OKTA_API_TOKEN", "00test-token")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("Development mode is refused"),
            "{args:?}: {err}"
        );
        assert!(err.contains("production"), "{err}");
    }
    // Without --dev the same command is not refused for production (the
    // plugin judges the domain, and an http:// loopback one is invalid).
    let out = harness(state.path())
        .args([
            "verify",
            "--name",
            "local",
            "--domain",
            "http://127.0.0.1:9",
        ])
        .env("OKTA_API_TOKEN", "00test-token")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let all = format!("{err}{}", String::from_utf8_lossy(&out.stdout));
    assert!(!all.contains("Development mode is refused"), "{all}");
}

#[test]
fn the_first_serve_prints_a_new_admin_password_once() {
    let state = tempfile::tempdir().unwrap();
    let start = || {
        let mut serve = harness(state.path())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = serve.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut said = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(300);
        while !said.iter().any(|l: &String| l.contains("console at")) {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => said.push(line),
                Err(_) => break,
            }
        }
        let _ = serve.kill();
        let _ = serve.wait();
        said
    };
    let first = start();
    let shown: Vec<&String> = first
        .iter()
        .filter(|l| l.contains("console admin password"))
        .collect();
    assert_eq!(shown.len(), 1, "{first:?}");
    let password = shown[0].rsplit(' ').next().unwrap().to_string();
    assert_eq!(password.len(), 20);
    let hash = std::fs::read_to_string(state.path().join("console-admin.phc")).unwrap();
    assert!(!hash.contains(&password));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(state.path().join("console-admin.phc"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let second = start();
    assert!(
        second.iter().any(|l| l.contains("console at")),
        "{second:?}"
    );
    assert!(!second.iter().any(|l| l.contains("console admin password")));
    assert!(!second.iter().any(|l| l.contains(&password)));
    // Not production unless asked: no marker.
    assert!(!state.path().join("production").exists());
}

#[test]
fn serve_stays_on_loopback_unless_given_its_public_url() {
    let state = tempfile::tempdir().unwrap();
    let out = harness(state.path())
        .args(["serve", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("loopback only unless --public-url"), "{err}");
}
