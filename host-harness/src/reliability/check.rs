//! What the report measures: the directory compared with a clean run's, and
//! secrets searched for everywhere they could escape to.

use std::collections::BTreeMap;
use std::path::Path;

use fake_infraon::{Infraon, PersonStatus, SyncTarget};

/// The Users directory as Okta id → (status, the whole record as text).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory(pub BTreeMap<String, (PersonStatus, String)>);

impl Directory {
    /// The linked Users of the fake Infraon now.
    pub fn read(infraon: &Infraon) -> anyhow::Result<Directory> {
        let people = infraon.people(SyncTarget::Users)?;
        Ok(Directory(
            people
                .into_iter()
                .filter(|p| !p.external_id.is_empty())
                .map(|p| {
                    let text = format!(
                        "{} {} {} {} {:?} {:?}",
                        p.login, p.email, p.first_name, p.last_name, p.fields, p.roles
                    );
                    (p.external_id, (p.status, text))
                })
                .collect(),
        ))
    }

    /// People of `clean` missing here.
    pub fn lost_from(&self, clean: &Directory) -> Vec<String> {
        clean
            .0
            .keys()
            .filter(|id| !self.0.contains_key(*id))
            .cloned()
            .collect()
    }

    /// People deactivated here whom the clean run keeps undeactivated (one
    /// absent from the clean run was deleted in Okta, so deactivating them
    /// is right).
    pub fn wrongly_deactivated(&self, clean: &Directory) -> Vec<String> {
        let deactivated = |d: &Directory, id: &str| {
            d.0.get(id)
                .is_some_and(|(s, _)| *s == PersonStatus::Deactivated)
        };
        self.0
            .keys()
            .filter(|id| deactivated(self, id))
            .filter(|id| clean.0.contains_key(*id) && !deactivated(clean, id))
            .cloned()
            .collect()
    }
}

/// The ids of `a` and `b`, sorted, each once: a case's findings after the
/// fault and after recovery, counted once per person.
pub fn merged(mut a: Vec<String>, b: Vec<String>) -> Vec<String> {
    a.extend(b);
    a.sort();
    a.dedup();
    a
}

/// Where secrets were found.
#[derive(Debug, Clone, Default)]
pub struct Leaks(pub Vec<String>);

impl Leaks {
    /// Looks for each of `secrets` in `text`, naming the place when found.
    pub fn search(&mut self, place: &str, text: &[u8], secrets: &[String]) {
        for s in secrets.iter().filter(|s| !s.is_empty()) {
            if text.windows(s.len()).any(|w| w == s.as_bytes()) {
                self.0.push(place.to_owned());
            }
        }
    }

    /// Every log line of the plugin.
    pub fn search_logs(&mut self, infraon: &Infraon, secrets: &[String]) -> anyhow::Result<()> {
        for line in infraon.log_lines(crate::PLUGIN_ID)? {
            let text = format!("{} {} {}", line.level, line.message, line.fields_json);
            self.search("log line", text.as_bytes(), secrets);
        }
        Ok(())
    }

    /// Every file under the state directory, raw (database, WAL, key, cache).
    pub fn search_files(&mut self, dir: &Path, secrets: &[String]) -> anyhow::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                self.search_files(&path, secrets)?;
            } else if let Ok(bytes) = std::fs::read(&path) {
                let place = format!(
                    "state file {}",
                    path.file_name().unwrap_or_default().to_string_lossy()
                );
                self.search(&place, &bytes, secrets);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(entries: &[(&str, PersonStatus)]) -> Directory {
        Directory(
            entries
                .iter()
                .map(|(id, s)| (id.to_string(), (*s, String::new())))
                .collect(),
        )
    }

    #[test]
    fn lost_and_wrongly_deactivated_are_relative_to_the_clean_run() {
        use PersonStatus::*;
        let clean = dir(&[
            ("a", Active),
            ("b", Deactivated),
            ("c", Active),
            ("d", Active),
        ]);
        // "gone" was deleted in Okta: the clean run never saw them.
        let ours = dir(&[
            ("a", Deactivated),
            ("b", Deactivated),
            ("c", Active),
            ("gone", Deactivated),
        ]);
        assert_eq!(ours.lost_from(&clean), vec!["d".to_string()]);
        assert_eq!(ours.wrongly_deactivated(&clean), vec!["a".to_string()]);
    }

    #[test]
    fn a_secret_is_found_anywhere_in_bytes() {
        let mut leaks = Leaks::default();
        let secrets = vec!["00abc".to_string(), String::new()];
        leaks.search("x", b"token=00abc;", &secrets);
        leaks.search("y", b"nothing", &secrets);
        assert_eq!(leaks.0, vec!["x".to_string()]);
    }
}
