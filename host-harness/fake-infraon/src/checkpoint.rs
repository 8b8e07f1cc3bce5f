//! Checkpoints of the write-ahead log, run beside the writes instead of in
//! them.
//!
//! SQLite's own automatic checkpoint runs inside the commit that crosses
//! its threshold: the caller that wrote the page of people then copies
//! every page the log holds back into the database before it returns. That
//! copy grows with the directory (a page of people dirties a few hundred
//! index pages, and a checkpoint reads them back from the log and writes
//! them again): a fifth of the writer's time at 100,000 people, a third at
//! a million.
//! Here a call that leaves the log past [`CHECKPOINT_FRAMES`] wakes a
//! thread of this Infraon's own, whose connection copies the log while the
//! next calls go on writing (a `PASSIVE` checkpoint never blocks a
//! writer). Should that thread fall behind, a commit that leaves the log
//! past [`INLINE_CHECKPOINT_FRAMES`] checkpoints inline, as SQLite would,
//! so the log stays bounded.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc::{self, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::Connection;
use rusqlite::hooks::Wal;

/// Log frames (pages of 4 KiB) after which the checkpoint thread is woken:
/// 64 MiB of log, so that a page written by many batches is copied once.
pub(crate) const CHECKPOINT_FRAMES: i32 = 16 * 1024;

/// Log frames after which the commit itself checkpoints (the thread is
/// behind): 256 MiB.
pub(crate) const INLINE_CHECKPOINT_FRAMES: i32 = 4 * CHECKPOINT_FRAMES;

thread_local! {
    /// Frames in the log after the last commit made on this thread, set by
    /// [`count_frames`] and taken when the call's connection guard drops.
    /// A call commits and releases its connection on one thread, so the
    /// count read there is that call's.
    static LOG_FRAMES: Cell<i32> = const { Cell::new(0) };
}

/// The connection's WAL hook (SQLite calls it after every commit, in the
/// committing thread). Installing it replaces SQLite's automatic
/// checkpoint.
fn count_frames(wal: &Wal, frames: i32) -> rusqlite::Result<()> {
    LOG_FRAMES.set(frames);
    if frames >= INLINE_CHECKPOINT_FRAMES {
        // Busy (the thread is checkpointing) is not an error for a commit.
        let _ = wal.checkpoint();
    }
    Ok(())
}

/// An Infraon's checkpoint thread, started the first time the log is
/// large enough to need it (most Infraons, a test's or a small tenant's,
/// never do).
pub(crate) struct Checkpointer {
    database: PathBuf,
    running: Mutex<Option<Running>>,
    /// Frames of the log its last checkpoint had copied.
    copied: Arc<AtomicI32>,
}

struct Running {
    wake: SyncSender<()>,
    thread: JoinHandle<()>,
}

impl Checkpointer {
    /// The checkpoints of the database at `database`, whose writing
    /// connection is `conn`.
    pub(crate) fn install(conn: &Connection, database: &Path) -> Checkpointer {
        conn.wal_hook(Some(count_frames));
        Checkpointer {
            database: database.to_owned(),
            running: Mutex::new(None),
            copied: Arc::new(AtomicI32::new(0)),
        }
    }

    /// After a call on this thread released the connection: wake the
    /// thread if the call left the log past the threshold.
    pub(crate) fn after_call(&self) {
        let frames = LOG_FRAMES.take();
        // Fewer frames than were copied: the log has started over since.
        let copied = self.copied.load(Ordering::Relaxed);
        let uncopied = if frames >= copied {
            frames - copied
        } else {
            frames
        };
        // Woken only for a full threshold's worth, so that a page written
        // by many batches is copied once, as by SQLite's own checkpoint.
        if uncopied < CHECKPOINT_FRAMES {
            return;
        }
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if running.is_none() {
            *running = self.start();
        }
        if let Some(r) = running.as_ref() {
            // Full: a wake is pending, which covers this commit too.
            // Disconnected: the thread could not open the database, and the
            // inline checkpoint keeps the log bounded.
            let _ = r.wake.try_send(());
        }
    }

    fn start(&self) -> Option<Running> {
        let (wake, woken) = mpsc::sync_channel::<()>(1);
        let (database, copied) = (self.database.clone(), self.copied.clone());
        let thread = std::thread::Builder::new()
            .name("infraon-checkpoint".into())
            .spawn(move || checkpoint_when_woken(&database, woken, &copied));
        match thread {
            Ok(thread) => Some(Running { wake, thread }),
            Err(e) => {
                tracing::warn!(error = %e, "cannot start the checkpoint thread; commits checkpoint inline");
                None
            }
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let running = self.running.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(Running { wake, thread }) = running.take() {
            // Closing the channel ends the thread after its checkpoint.
            drop(wake);
            let _ = thread.join();
        }
    }
}

fn checkpoint_when_woken(database: &Path, woken: mpsc::Receiver<()>, copied: &AtomicI32) {
    let conn = match Connection::open(database) {
        Ok(conn) => conn,
        Err(e) => {
            tracing::warn!(error = %e, "the checkpoint thread cannot open the database");
            return;
        }
    };
    while woken.recv().is_ok() {
        // PASSIVE copies what is committed without waiting for the writer
        // or blocking it; what it could not copy the next wake does.
        // Its row: busy, frames in the log, frames copied.
        match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i32>(2)) {
            Ok(frames) => copied.store(frames, Ordering::Relaxed),
            Err(e) => tracing::debug!(error = %e, "checkpoint failed; the next one retries"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use crate::directory::tests::person;
    use crate::{DATABASE_FILE, Infraon, Person};

    /// People whose emails and logins land all over their indexes, as a
    /// real org's do against its ids, so that a batch dirties a page of
    /// each index per person; their ids in Okta's order.
    fn batch(from: u32) -> Vec<Person> {
        (from..from + 200)
            .map(|n| {
                let email = format!("p{:08x}@acme.example", n.wrapping_mul(2_654_435_761));
                Person {
                    external_id: format!("00u{n:08}"),
                    login: email.clone(),
                    email,
                    ..person(n)
                }
            })
            .collect()
    }

    fn started(infraon: &Infraon) -> bool {
        let checkpointer = infraon.checkpointer.as_ref().unwrap();
        checkpointer.running.lock().unwrap().is_some()
    }

    fn copied(infraon: &Infraon) -> i32 {
        let checkpointer = infraon.checkpointer.as_ref().unwrap();
        checkpointer.copied.load(super::Ordering::Relaxed)
    }

    #[test]
    fn a_small_directory_never_starts_the_thread() {
        let dir = tempfile::tempdir().unwrap();
        let infraon = Infraon::open(dir.path()).unwrap();
        for from in (0..2_000).step_by(200) {
            assert!(infraon.upsert_batch(&batch(from)).iter().all(Result::is_ok));
        }
        assert!(!started(&infraon));
        assert_eq!(copied(&infraon), 0);
    }

    /// At the production threshold (64 MiB of log): the writes go on while
    /// the thread copies the log, and closing leaves no log and nobody lost.
    #[test]
    fn a_large_log_is_copied_by_the_thread_and_nothing_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let infraon = Infraon::open(dir.path()).unwrap();
        let mut written = 0;
        // A batch of spread-out people writes some 400 frames: the
        // threshold's 16 Ki frames come after 8,000 to 20,000 people.
        while !started(&infraon) && written < 60_000 {
            let results = infraon.upsert_batch(&batch(written));
            assert!(results.iter().all(Result::is_ok));
            written += 200;
        }
        assert!(started(&infraon), "no checkpoint after {written} people");
        let deadline = Instant::now() + Duration::from_secs(30);
        while copied(&infraon) == 0 {
            assert!(Instant::now() < deadline, "the thread copied nothing");
            std::thread::sleep(Duration::from_millis(10));
        }
        // Copied by the thread, a threshold's worth at once: not a frame
        // per batch, and not inline (that waits for four thresholds).
        assert!(
            copied(&infraon) >= super::CHECKPOINT_FRAMES,
            "{}",
            copied(&infraon)
        );
        assert!(copied(&infraon) < super::INLINE_CHECKPOINT_FRAMES);

        drop(infraon);
        let log = dir.path().join(format!("{DATABASE_FILE}-wal"));
        assert!(!log.exists(), "the log outlived the last connection");
        let infraon = Infraon::open(dir.path()).unwrap();
        let count: u32 = infraon
            .conn()
            .query_row("SELECT count(*) FROM people", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, written);
    }
}
