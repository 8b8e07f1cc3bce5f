//! WIT `secrets`: credentials sealed at rest.
//!
//! Each value is sealed with XChaCha20-Poly1305 under the state directory's
//! key, with a fresh random 24-byte nonce (large enough that random nonces
//! never repeat in practice), and with the plugin and secret name as
//! associated data, so a ciphertext copied into another row fails to open
//! instead of handing one plugin's token to another.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::RngCore;
use rusqlite::{Connection, OptionalExtension, params};

use crate::types::{InfraonError, SecretsError};
use crate::{Infraon, SECRETS_KEY_FILE, now};

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;

/// A fresh key from the thread's CSPRNG (seeded by the OS).
pub(crate) fn random_key() -> [u8; KEY_LEN] {
    let mut key = [0u8; KEY_LEN];
    rand::rng().fill_bytes(&mut key);
    key
}

pub(crate) fn cipher(key: &[u8; KEY_LEN]) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(Key::from_slice(key))
}

/// The key of `state_dir`, creating it on first open.
///
/// Refuses to mint a new key when the database already holds secrets: they
/// would all become unreadable, and an operator would rather hear that the
/// key file went missing.
pub(crate) fn load_or_create_key(
    state_dir: &Path,
    conn: &Connection,
) -> Result<[u8; KEY_LEN], InfraonError> {
    let path = state_dir.join(SECRETS_KEY_FILE);
    match fs::read(&path) {
        Ok(bytes) => {
            warn_if_readable_by_others(&path);
            bytes.try_into().map_err(|bytes: Vec<u8>| {
                InfraonError::SecretsKey(format!(
                    "{SECRETS_KEY_FILE} holds {} bytes, expected {KEY_LEN}",
                    bytes.len()
                ))
            })
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let sealed: i64 = conn.query_row("SELECT COUNT(*) FROM secrets", [], |r| r.get(0))?;
            if sealed > 0 {
                return Err(InfraonError::SecretsKey(format!(
                    "{SECRETS_KEY_FILE} is missing but the database holds {sealed} sealed \
                     secret(s); restore the key file or start from an empty state directory"
                )));
            }
            create_key_file(state_dir)
        }
        Err(source) => Err(io_error(&path, source)),
    }
}

/// Write a new key without ever exposing a partial or world-readable file:
/// a private temporary file is written and synced first, then hard-linked
/// into place, which fails rather than clobbers if another process won the
/// race (then its key is the one to use).
fn create_key_file(state_dir: &Path) -> Result<[u8; KEY_LEN], InfraonError> {
    let path = state_dir.join(SECRETS_KEY_FILE);
    let tmp = state_dir.join(format!(
        "{SECRETS_KEY_FILE}.tmp-{}-{:016x}",
        std::process::id(),
        rand::rng().next_u64()
    ));
    let key = random_key();
    let result = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // Set at creation: a chmod afterwards would leave a window in
            // which the key is readable under the umask.
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(|e| io_error(&tmp, e))?;
        file.write_all(&key).map_err(|e| io_error(&tmp, e))?;
        file.sync_all().map_err(|e| io_error(&tmp, e))?;
        drop(file);
        match fs::hard_link(&tmp, &path) {
            Ok(()) => {
                tracing::info!(file = SECRETS_KEY_FILE, "created a new secrets key");
                Ok(key)
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                let bytes = fs::read(&path).map_err(|e| io_error(&path, e))?;
                bytes.try_into().map_err(|_| {
                    InfraonError::SecretsKey(format!("{SECRETS_KEY_FILE} is malformed"))
                })
            }
            Err(e) => Err(io_error(&path, e)),
        }
    })();
    let _ = fs::remove_file(&tmp);
    result
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(
                file = SECRETS_KEY_FILE,
                mode = format!("{mode:o}"),
                "the secrets key is readable by other users; chmod 600 it"
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

fn io_error(path: &Path, source: std::io::Error) -> InfraonError {
    InfraonError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Length-prefixed so that no (plugin, name) pair can be spelled as another.
fn associated_data(plugin: &str, name: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(32 + plugin.len() + name.len());
    aad.extend_from_slice(b"infraon-secret-v1");
    aad.extend_from_slice(&(plugin.len() as u64).to_be_bytes());
    aad.extend_from_slice(plugin.as_bytes());
    aad.extend_from_slice(name.as_bytes());
    aad
}

impl Infraon {
    /// Store a secret under a name, replacing any previous one.
    pub fn secret_put(&self, plugin: &str, name: &str, value: &str) -> Result<(), SecretsError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let aad = associated_data(plugin, name);
        let ciphertext = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: value.as_bytes(),
                    aad: &aad,
                },
            )
            // Never include the value: this error may be logged.
            .map_err(|_| SecretsError::Other(format!("could not seal secret `{name}`")))?;
        let conn = self.conn();
        conn.prepare_cached(
            "INSERT INTO secrets (plugin, name, nonce, ciphertext, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (plugin, name) DO UPDATE
             SET nonce = excluded.nonce, ciphertext = excluded.ciphertext,
                 updated_at = excluded.updated_at",
        )?
        .execute(params![plugin, name, &nonce[..], ciphertext, now()])?;
        Ok(())
    }

    /// Read a secret back; `None` when absent.
    pub fn secret_get(&self, plugin: &str, name: &str) -> Result<Option<String>, SecretsError> {
        let row: Option<(Vec<u8>, Vec<u8>)> = {
            let conn = self.conn();
            conn.prepare_cached(
                "SELECT nonce, ciphertext FROM secrets WHERE plugin = ?1 AND name = ?2",
            )?
            .query_row(params![plugin, name], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
        };
        let Some((nonce, ciphertext)) = row else {
            return Ok(None);
        };
        if nonce.len() != NONCE_LEN {
            return Err(SecretsError::Other(format!(
                "secret `{name}` is stored with a malformed nonce"
            )));
        }
        let aad = associated_data(plugin, name);
        let plaintext = self
            .cipher
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| {
                SecretsError::Other(format!(
                    "secret `{name}` does not open with this state directory's key \
                     ({SECRETS_KEY_FILE} replaced, or the row was tampered with)"
                ))
            })?;
        String::from_utf8(plaintext)
            .map(Some)
            .map_err(|_| SecretsError::Other(format!("secret `{name}` is not UTF-8")))
    }

    /// Forget a secret; forgetting an absent one is not an error.
    pub fn secret_delete(&self, plugin: &str, name: &str) -> Result<(), SecretsError> {
        let conn = self.conn();
        conn.prepare_cached("DELETE FROM secrets WHERE plugin = ?1 AND name = ?2")?
            .execute(params![plugin, name])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DATABASE_FILE;

    const TOKEN: &str = "00SSWS-tok3n-Sup3rS3cret-abcdefghijklmnop";

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    /// Every byte SQLite may have written for the database: the file and its
    /// WAL (where fresh writes sit until a checkpoint).
    fn database_bytes(dir: &Path) -> Vec<u8> {
        let mut bytes = Vec::new();
        for name in [
            DATABASE_FILE.to_string(),
            format!("{DATABASE_FILE}-wal"),
            format!("{DATABASE_FILE}-journal"),
        ] {
            if let Ok(b) = fs::read(dir.join(name)) {
                bytes.extend(b);
            }
        }
        bytes
    }

    #[test]
    fn round_trip_replace_and_delete() {
        let i = Infraon::open_in_memory().unwrap();
        assert_eq!(i.secret_get("okta", "token/acme").unwrap(), None);
        i.secret_put("okta", "token/acme", TOKEN).unwrap();
        assert_eq!(
            i.secret_get("okta", "token/acme").unwrap().as_deref(),
            Some(TOKEN)
        );
        i.secret_put("okta", "token/acme", "second").unwrap();
        assert_eq!(
            i.secret_get("okta", "token/acme").unwrap().as_deref(),
            Some("second")
        );
        i.secret_put("okta", "empty", "").unwrap();
        assert_eq!(i.secret_get("okta", "empty").unwrap().as_deref(), Some(""));
        assert_eq!(i.secret_get("other", "token/acme").unwrap(), None);
        i.secret_delete("okta", "token/acme").unwrap();
        assert_eq!(i.secret_get("okta", "token/acme").unwrap(), None);
        i.secret_delete("okta", "token/acme").unwrap();
    }

    #[test]
    fn the_database_file_never_holds_the_secret_in_clear() {
        let dir = tempfile::tempdir().unwrap();
        {
            let i = Infraon::open(dir.path()).unwrap();
            // Control: a value written in clear (storage) is found by this
            // scan, so the scan looks where SQLite really writes.
            i.storage_set("okta", "control", b"CLEAR-CONTROL-VALUE-123")
                .unwrap();
            assert!(contains(
                &database_bytes(dir.path()),
                b"CLEAR-CONTROL-VALUE-123"
            ));
            i.secret_put("okta", "token/acme", TOKEN).unwrap();
            // Same value under two names: distinct nonces, distinct ciphertexts.
            i.secret_put("okta", "token/copy", TOKEN).unwrap();
            assert!(!contains(&database_bytes(dir.path()), TOKEN.as_bytes()));
            let (a, b): (Vec<u8>, Vec<u8>) = {
                let conn = i.conn();
                let get = |name: &str| -> Vec<u8> {
                    conn.query_row(
                        "SELECT ciphertext FROM secrets WHERE name = ?1",
                        [name],
                        |r| r.get(0),
                    )
                    .unwrap()
                };
                (get("token/acme"), get("token/copy"))
            };
            assert_ne!(a, b);
        }
        // After close SQLite has checkpointed the WAL into the main file.
        let bytes = database_bytes(dir.path());
        assert!(contains(&bytes, b"CLEAR-CONTROL-VALUE-123"));
        assert!(!contains(&bytes, TOKEN.as_bytes()));
        assert!(!contains(&bytes, &TOKEN.as_bytes()[4..20]));
    }

    #[cfg(unix)]
    #[test]
    fn the_key_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        drop(Infraon::open(dir.path()).unwrap());
        let meta = fs::metadata(dir.path().join(SECRETS_KEY_FILE)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(meta.len(), KEY_LEN as u64);
        // No temporary file is left behind.
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(!names.iter().any(|n| n.contains(".tmp-")), "{names:?}");
    }

    #[test]
    fn reopening_the_state_dir_reads_the_secret_back() {
        let dir = tempfile::tempdir().unwrap();
        Infraon::open(dir.path())
            .unwrap()
            .secret_put("okta", "token/acme", TOKEN)
            .unwrap();
        let key_before = fs::read(dir.path().join(SECRETS_KEY_FILE)).unwrap();
        let i = Infraon::open(dir.path()).unwrap();
        assert_eq!(
            fs::read(dir.path().join(SECRETS_KEY_FILE)).unwrap(),
            key_before
        );
        assert_eq!(
            i.secret_get("okta", "token/acme").unwrap().as_deref(),
            Some(TOKEN)
        );
    }

    #[test]
    fn a_missing_key_with_sealed_secrets_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        Infraon::open(dir.path())
            .unwrap()
            .secret_put("okta", "token/acme", TOKEN)
            .unwrap();
        fs::remove_file(dir.path().join(SECRETS_KEY_FILE)).unwrap();
        let err = Infraon::open(dir.path()).unwrap_err();
        assert!(matches!(err, InfraonError::SecretsKey(_)), "{err}");
    }

    #[test]
    fn a_wrong_key_fails_without_revealing_anything() {
        let dir = tempfile::tempdir().unwrap();
        Infraon::open(dir.path())
            .unwrap()
            .secret_put("okta", "token/acme", TOKEN)
            .unwrap();
        fs::write(dir.path().join(SECRETS_KEY_FILE), random_key()).unwrap();
        let i = Infraon::open(dir.path()).unwrap();
        let err = i.secret_get("okta", "token/acme").unwrap_err();
        assert!(matches!(err, SecretsError::Other(_)));
        assert!(!err.to_string().contains(TOKEN));
    }

    #[test]
    fn a_ciphertext_moved_to_another_name_does_not_open() {
        let i = Infraon::open_in_memory().unwrap();
        i.secret_put("okta", "token/acme", TOKEN).unwrap();
        i.secret_put("okta", "token/other", "x").unwrap();
        i.conn()
            .execute(
                "UPDATE secrets SET (nonce, ciphertext) =
                 (SELECT nonce, ciphertext FROM secrets WHERE name = 'token/acme')
                 WHERE name = 'token/other'",
                [],
            )
            .unwrap();
        assert!(i.secret_get("okta", "token/other").is_err());
    }
}
