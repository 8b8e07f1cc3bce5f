//! The unsynced-records CSV, read back with a standard CSV parser.

mod common;

use common::TOKEN;
use common::world::{CONFIG, World, profile, uid};
use plugin_core::export::{ExportError, HEADER, unsynced_csv};
use plugin_core::sync::{self, ReasonCode};
use plugin_core::{RunOutcome, SyncMode, SyncTarget, UnsyncedRecord};
use serde_json::{Value, json};

/// Display names a spreadsheet or a naive parser would trip on.
const HOSTILE: [&str; 9] = [
    "=HYPERLINK(\"http://evil.example\",\"click\")",
    "+1 555 0100",
    "-2+3",
    "@SUM(A1:A9)",
    "\tTabbed",
    "\rReturn first",
    "Smith, \"Jr.\"",
    "two\r\nlines\nand more",
    "Zoë Ñandú 日本語 🙂",
];

/// Users 0..9 with hostile display names (and a hostile login for one),
/// and two with ids beginning with a tab and a CR (names are trimmed when
/// read from Okta; ids are not), all without an email, so every one is
/// unsynced; user 20 syncs.
fn hostile_world() -> World {
    let mut w = World::new(SyncTarget::Users);
    for (i, name) in HOSTILE.iter().enumerate() {
        let mut p = profile(i);
        p["displayName"] = json!(name);
        p["email"] = Value::Null;
        w.okta.add_user(&uid(i), "ACTIVE", p);
    }
    w.okta
        .set_profile(&uid(0), "login", json!("=cmd|' /C calc'!A0"));
    for (i, id) in [(10, "\tTAB"), (11, "\rCR")] {
        let mut p = profile(i);
        p["email"] = Value::Null;
        w.okta.add_user(id, "ACTIVE", p);
    }
    w.okta.add_user(&uid(20), "ACTIVE", profile(20));
    w
}

fn read_back(csv_text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(csv_text.as_bytes());
    let header = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

fn cells(u: &UnsyncedRecord) -> Vec<String> {
    vec![
        u.okta_id.clone(),
        u.login.clone(),
        u.email.clone(),
        u.display_name.clone(),
        u.reason.as_str().to_owned(),
        u.reason_text.clone(),
        u.run_id.to_string(),
        u.at.clone(),
    ]
}

/// Undo the neutralisation: one leading `'` before a formula trigger.
fn restore(cell: &str) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest.to_owned(),
        _ => cell.to_owned(),
    }
}

#[test]
fn the_csv_read_back_is_exactly_the_unsynced_records_neutralised() {
    let mut w = hostile_world();
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Partial));
    assert_eq!(r.counts.unsynced as usize, HOSTILE.len() + 2);
    let records = sync::unsynced(&mut w.host(), CONFIG, None).unwrap();
    assert_eq!(records.len(), HOSTILE.len() + 2);
    assert!(
        records
            .iter()
            .all(|u| u.reason == ReasonCode::MissingRequiredField)
    );

    let text = unsynced_csv(&mut w.host(), CONFIG, None).unwrap();
    assert_eq!(
        text,
        unsynced_csv(&mut w.host(), CONFIG, Some(r.id)).unwrap()
    );
    assert!(
        text.starts_with("okta_id,login,email,display_name,reason_code,reason,run_id,time\r\n")
    );
    assert!(text.ends_with("\r\n"));
    let (header, rows) = read_back(&text);
    assert_eq!(header, HEADER);
    assert_eq!(rows.len(), records.len());
    for (row, rec) in rows.iter().zip(&records) {
        let want = cells(rec);
        // Intact once the neutralising quote is taken off...
        assert_eq!(row.iter().map(|c| restore(c)).collect::<Vec<_>>(), want);
        // ...and no cell a spreadsheet would run as a formula.
        for (cell, orig) in row.iter().zip(&want) {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?}"
            );
            if orig.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                assert_eq!(cell, &format!("'{orig}"));
            } else {
                assert_eq!(cell, orig);
            }
        }
    }
    let ids: Vec<&str> = rows[..2].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids, vec!["'\tTAB", "'\rCR"]);
    let names: Vec<&str> = rows[2..].iter().map(|r| r[3].as_str()).collect();
    assert_eq!(
        names,
        vec![
            "'=HYPERLINK(\"http://evil.example\",\"click\")",
            "'+1 555 0100",
            "'-2+3",
            "'@SUM(A1:A9)",
            "Tabbed",
            "Return first",
            "Smith, \"Jr.\"",
            "two\r\nlines\nand more",
            "Zoë Ñandú 日本語 🙂",
        ]
    );
    assert_eq!(rows[2][1], "'=cmd|' /C calc'!A0");
    // RFC 4180 on the wire: quotes doubled inside a quoted field.
    assert!(text.contains("\"Smith, \"\"Jr.\"\"\""));
    assert!(text.contains("\"two\r\nlines\nand more\""));
}

#[test]
fn the_token_never_appears_even_in_okta_data() {
    let mut w = World::new(SyncTarget::Users);
    let mut p = profile(1);
    p["displayName"] = json!(format!("leak {TOKEN} here"));
    p["email"] = Value::Null;
    p["secretNote"] = json!(TOKEN);
    w.okta.add_user(&uid(1), "ACTIVE", p);
    w.run(SyncMode::Full);
    let text = unsynced_csv(&mut w.host(), CONFIG, None).unwrap();
    assert!(!text.contains(TOKEN));
    let (_, rows) = read_back(&text);
    assert_eq!(rows[0][3], "leak [redacted] here");
}

#[test]
fn unknown_runs_configs_and_a_config_that_never_ran() {
    let mut w = World::new(SyncTarget::Users);
    assert_eq!(
        unsynced_csv(&mut w.host(), CONFIG, None),
        Err(ExportError::NoRuns)
    );
    assert_eq!(
        unsynced_csv(&mut w.host(), CONFIG, Some(7)),
        Err(ExportError::UnknownRun(7))
    );
    assert_eq!(
        unsynced_csv(&mut w.host(), "nope", None),
        Err(ExportError::UnknownConfig("nope".into()))
    );
    w.okta.add_user(&uid(1), "ACTIVE", profile(1));
    let clean = w.run(SyncMode::Full);
    let text = unsynced_csv(&mut w.host(), CONFIG, Some(clean.id)).unwrap();
    assert_eq!(
        text,
        "okta_id,login,email,display_name,reason_code,reason,run_id,time\r\n"
    );
    assert_eq!(
        unsynced_csv(&mut w.host(), CONFIG, Some(clean.id + 1)),
        Err(ExportError::UnknownRun(clean.id + 1))
    );
    // An older run stays exportable after a newer one.
    let mut w = hostile_world();
    let partial = w.run(SyncMode::Full);
    let gone: Vec<String> = w.okta.org.users().map(|(id, _)| id.to_owned()).collect();
    for id in gone.iter().filter(|id| **id != uid(20)) {
        w.okta.delete_user(id);
    }
    w.run(SyncMode::Full);
    let latest = unsynced_csv(&mut w.host(), CONFIG, None).unwrap();
    assert_eq!(read_back(&latest).1.len(), 0);
    let older = unsynced_csv(&mut w.host(), CONFIG, Some(partial.id)).unwrap();
    assert_eq!(read_back(&older).1.len(), HOSTILE.len() + 2);
}

/// The ids (with the run that last saw them) of the current-unsynced export.
fn unsynced_now(w: &mut World) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = sync::unsynced(&mut w.host(), CONFIG, None)
        .unwrap()
        .into_iter()
        .map(|r| (r.okta_id, r.run_id))
        .collect();
    out.sort();
    out
}

#[test]
fn the_current_export_keeps_who_is_unsynced_across_runs_until_fixed() {
    const MIN: u64 = 60_000;
    let mut w = World::new(SyncTarget::Users);
    w.seed(6, 1);
    // Users 1 and 2 cannot sync: no email.
    for i in [1, 2] {
        w.okta.set_profile(&uid(i), "email", Value::Null);
    }
    w.advance(5 * MIN);
    let full = w.run(SyncMode::Full);
    assert_eq!(full.counts.unsynced, 2);
    assert_eq!(unsynced_now(&mut w), [(uid(1), full.id), (uid(2), full.id)]);

    // An incremental run that does not see them keeps them, from the full
    // run; a new problem joins from the incremental run.
    w.advance(5 * MIN);
    w.okta.set_profile(&uid(4), "email", Value::Null);
    w.advance(MIN);
    let inc = w.run(SyncMode::Incremental);
    assert_eq!(inc.mode, SyncMode::Incremental);
    assert_eq!(inc.counts.unsynced, 1);
    assert_eq!(
        unsynced_now(&mut w),
        [(uid(1), full.id), (uid(2), full.id), (uid(4), inc.id)]
    );
    // The per-run export stays: the incremental run met only user 4.
    let per_run: Vec<String> = sync::unsynced(&mut w.host(), CONFIG, Some(inc.id))
        .unwrap()
        .into_iter()
        .map(|r| r.okta_id)
        .collect();
    assert_eq!(per_run, [uid(4)]);
    // A dry run changes nothing.
    w.run(SyncMode::DryRun);
    assert_eq!(unsynced_now(&mut w).len(), 3);

    // User 1 fixed in Okta: the next incremental run drops them.
    w.advance(5 * MIN);
    w.okta
        .set_profile(&uid(1), "email", json!("user1@acme.com"));
    w.advance(MIN);
    let fixed = w.run(SyncMode::Incremental);
    assert_eq!(fixed.counts.unsynced, 0, "{fixed:?}");
    assert_eq!(unsynced_now(&mut w), [(uid(2), full.id), (uid(4), inc.id)]);
    // A full run is the whole truth: only who it could not sync.
    w.okta
        .set_profile(&uid(4), "email", json!("user4@acme.com"));
    let last = w.run(SyncMode::Full);
    assert_eq!(unsynced_now(&mut w), [(uid(2), last.id)]);
    let csv = unsynced_csv(&mut w.host(), CONFIG, None).unwrap();
    let (_, rows) = read_back(&csv);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], uid(2));
    assert_eq!(rows[0][6], last.id.to_string());
}
