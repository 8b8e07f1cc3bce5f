//! `infraon:okta/directory`: Infraon's Users and Requesters over the
//! [`Directory`](crate::backend::Directory) backend. Conversions between
//! the WIT records and the backend's domain types.

use std::sync::mpsc;

use wasmtime::component::Resource;

use crate::backend as fi;
use crate::bindings::infraon::okta::directory::{
    self as wit, DirectoryError, FieldSpec, Host, HostPendingUpserts, Person, PersonStatus, Role,
    UpsertOutcome,
};
use crate::bindings::infraon::okta::types::SyncTarget;
use crate::state::PluginState;

impl From<SyncTarget> for fi::SyncTarget {
    fn from(k: SyncTarget) -> Self {
        match k {
            SyncTarget::Users => fi::SyncTarget::Users,
            SyncTarget::Requesters => fi::SyncTarget::Requesters,
        }
    }
}

impl From<fi::SyncTarget> for SyncTarget {
    fn from(k: fi::SyncTarget) -> Self {
        match k {
            fi::SyncTarget::Users => SyncTarget::Users,
            fi::SyncTarget::Requesters => SyncTarget::Requesters,
        }
    }
}

impl From<PersonStatus> for fi::PersonStatus {
    fn from(s: PersonStatus) -> Self {
        match s {
            PersonStatus::Active => fi::PersonStatus::Active,
            PersonStatus::Pending => fi::PersonStatus::Pending,
            PersonStatus::Suspended => fi::PersonStatus::Suspended,
            PersonStatus::Deactivated => fi::PersonStatus::Deactivated,
        }
    }
}

impl From<fi::PersonStatus> for PersonStatus {
    fn from(s: fi::PersonStatus) -> Self {
        match s {
            fi::PersonStatus::Active => PersonStatus::Active,
            fi::PersonStatus::Pending => PersonStatus::Pending,
            fi::PersonStatus::Suspended => PersonStatus::Suspended,
            fi::PersonStatus::Deactivated => PersonStatus::Deactivated,
        }
    }
}

impl From<Person> for fi::Person {
    fn from(p: Person) -> Self {
        fi::Person {
            external_id: p.external_id,
            config: p.config,
            kind: p.kind.into(),
            login: p.login,
            email: p.email,
            first_name: p.first_name,
            last_name: p.last_name,
            display_name: p.display_name,
            fields: p.fields,
            roles: p.roles,
            status: p.status.into(),
        }
    }
}

impl From<fi::Person> for Person {
    fn from(p: fi::Person) -> Self {
        Person {
            external_id: p.external_id,
            config: p.config,
            kind: p.kind.into(),
            login: p.login,
            email: p.email,
            first_name: p.first_name,
            last_name: p.last_name,
            display_name: p.display_name,
            fields: p.fields,
            roles: p.roles,
            status: p.status.into(),
        }
    }
}

impl From<fi::UpsertOutcome> for UpsertOutcome {
    fn from(o: fi::UpsertOutcome) -> Self {
        match o {
            fi::UpsertOutcome::Created => UpsertOutcome::Created,
            fi::UpsertOutcome::Updated => UpsertOutcome::Updated,
            fi::UpsertOutcome::Unchanged => UpsertOutcome::Unchanged,
        }
    }
}

impl From<fi::DirectoryError> for DirectoryError {
    fn from(e: fi::DirectoryError) -> Self {
        match e {
            fi::DirectoryError::Rejected { field, reason } => {
                DirectoryError::Rejected((field, reason))
            }
            fi::DirectoryError::Conflict(m) => DirectoryError::Conflict(m),
            fi::DirectoryError::NotFound(m) => DirectoryError::NotFound(m),
            fi::DirectoryError::Unavailable(m) => DirectoryError::Unavailable(m),
            fi::DirectoryError::Other(m) => DirectoryError::Other(m),
        }
    }
}

/// Unfinished batches one plugin instance may hold (WIT `start-upsert-batch`).
pub const MAX_PENDING_BATCHES: usize = 8;

type BatchResults = Vec<Result<fi::UpsertOutcome, fi::DirectoryError>>;

/// A batch to write and where its results go.
type Job = (Vec<fi::Person>, mpsc::Sender<BatchResults>);

/// The operation's directory writer: one thread, started at its first
/// batch, that applies batches in the order they were started. Dropped
/// with the operation's state, it is waited for, so that every batch the
/// operation started (even one a trapped guest left unfinished) has landed
/// before the operation is over and before anything started after it. A
/// thread per batch cost a thread's start and stack for every page of 200
/// people.
pub struct BatchWriter {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for BatchWriter {
    fn drop(&mut self) {
        // Closing the queue ends the thread once it has written what it holds.
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = super::blocking(!thread.is_finished(), || thread.join());
        }
    }
}

impl BatchWriter {
    fn start(directory: std::sync::Arc<dyn fi::Directory>) -> std::io::Result<BatchWriter> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("directory-writer".into())
            .spawn(move || {
                for (people, reply) in queue {
                    // A batch dropped unfinished has nobody to answer.
                    let _ = reply.send(directory.upsert_batch(&people));
                }
            })?;
        Ok(BatchWriter {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }
}

/// A batch applied by the operation's [`BatchWriter`] (WIT
/// `pending-upserts`, whose table entries these are), so that the plugin
/// parses its next page while the directory writes this one.
pub struct PendingUpserts {
    /// Where the writer answers.
    results: mpsc::Receiver<BatchResults>,
    /// People in the batch, for the answer if the writer failed.
    size: usize,
}

impl PendingUpserts {
    /// Wait for the writer, if still writing, and take the results.
    fn wait(self) -> BatchResults {
        let answer = match self.results.try_recv() {
            Err(mpsc::TryRecvError::Empty) => super::blocking(true, || self.results.recv().ok()),
            answered => answered.ok(),
        };
        answer.unwrap_or_else(|| {
            let failed = fi::DirectoryError::Unavailable(
                "the directory failed while applying the batch; none of it is known to have landed"
                    .into(),
            );
            vec![Err(failed); self.size]
        })
    }
}

/// The table entry behind a WIT handle's `rep`.
fn entry(rep: u32) -> Resource<PendingUpserts> {
    Resource::new_own(rep)
}

fn batch_results(results: BatchResults) -> Vec<Result<UpsertOutcome, DirectoryError>> {
    results
        .into_iter()
        .map(|r| r.map(Into::into).map_err(Into::into))
        .collect()
}

impl HostPendingUpserts for PluginState {
    fn finish(
        &mut self,
        batch: Resource<wit::PendingUpserts>,
    ) -> Vec<Result<UpsertOutcome, DirectoryError>> {
        self.pending_batches.retain(|rep| *rep != batch.rep());
        match self.table.delete(entry(batch.rep())) {
            Ok(pending) => batch_results(pending.wait()),
            // wasmtime checks the handle before this runs.
            Err(_) => Vec::new(),
        }
    }

    fn drop(&mut self, batch: Resource<wit::PendingUpserts>) -> wasmtime::Result<()> {
        // Unfinished: the batch still lands, before anything started later.
        self.pending_batches.retain(|rep| *rep != batch.rep());
        self.table.delete(entry(batch.rep()))?.wait();
        Ok(())
    }
}

impl Host for PluginState {
    fn start_upsert_batch(
        &mut self,
        people: Vec<Person>,
    ) -> Result<Resource<wit::PendingUpserts>, DirectoryError> {
        if self.pending_batches.len() >= MAX_PENDING_BATCHES {
            return Err(DirectoryError::Unavailable(format!(
                "{MAX_PENDING_BATCHES} batches are unfinished: finish one first"
            )));
        }
        let people: Vec<fi::Person> = people.into_iter().map(Into::into).collect();
        let size = people.len();
        if self.batch_writer.is_none() {
            let writer = BatchWriter::start(self.backends.directory.clone()).map_err(|e| {
                DirectoryError::Unavailable(format!("cannot start the writer: {e}"))
            })?;
            self.batch_writer = Some(writer);
        }
        let (reply, results) = mpsc::channel();
        let queue = self.batch_writer.as_ref().and_then(|w| w.jobs.as_ref());
        if queue.is_none_or(|q| q.send((people, reply)).is_err()) {
            // Its thread is gone (a directory call panicked): a new one
            // next time.
            self.batch_writer = None;
            return Err(DirectoryError::Unavailable(
                "the directory's writer stopped; the batch was not applied".into(),
            ));
        }
        let batch = self
            .table
            .push(PendingUpserts { results, size })
            .map_err(|e| DirectoryError::Unavailable(format!("cannot hold the batch: {e}")))?;
        self.pending_batches.push(batch.rep());
        Ok(Resource::new_own(batch.rep()))
    }

    fn upsert(&mut self, person: Person) -> Result<UpsertOutcome, DirectoryError> {
        let person = person.into();
        let busy = self.backends.directory.is_busy();
        Ok(super::blocking(busy, || self.backends.directory.upsert(&person))?.into())
    }

    fn upsert_batch(&mut self, people: Vec<Person>) -> Vec<Result<UpsertOutcome, DirectoryError>> {
        let people: Vec<fi::Person> = people.into_iter().map(Into::into).collect();
        let busy = self.backends.directory.is_busy();
        batch_results(super::blocking(busy, || {
            self.backends.directory.upsert_batch(&people)
        }))
    }

    fn set_status(
        &mut self,
        kind: SyncTarget,
        external_id: String,
        status: PersonStatus,
    ) -> Result<(), DirectoryError> {
        Ok(self
            .backends
            .directory
            .set_status(kind.into(), &external_id, status.into())?)
    }

    fn find_by_external_id(
        &mut self,
        kind: SyncTarget,
        external_id: String,
    ) -> Result<Option<Person>, DirectoryError> {
        Ok(self
            .backends
            .directory
            .find_by_external_id(kind.into(), &external_id)?
            .map(Into::into))
    }

    fn find_by_email(
        &mut self,
        kind: SyncTarget,
        email: String,
    ) -> Result<Option<Person>, DirectoryError> {
        Ok(self
            .backends
            .directory
            .find_by_email(kind.into(), &email)?
            .map(Into::into))
    }

    fn find_by_login(
        &mut self,
        kind: SyncTarget,
        login: String,
    ) -> Result<Option<Person>, DirectoryError> {
        Ok(self
            .backends
            .directory
            .find_by_login(kind.into(), &login)?
            .map(Into::into))
    }

    fn relink(&mut self, kind: SyncTarget, from: String, to: String) -> Result<(), DirectoryError> {
        Ok(self.backends.directory.relink(kind.into(), &from, &to)?)
    }

    fn release_identity(
        &mut self,
        kind: SyncTarget,
        external_id: String,
    ) -> Result<(), DirectoryError> {
        Ok(self
            .backends
            .directory
            .release_identity(kind.into(), &external_id)?)
    }

    fn move_population(
        &mut self,
        config: String,
        from: SyncTarget,
        to: SyncTarget,
    ) -> Result<u32, DirectoryError> {
        Ok(self
            .backends
            .directory
            .move_population(&config, from.into(), to.into())?)
    }

    fn move_people(
        &mut self,
        config: String,
        from: SyncTarget,
        to: SyncTarget,
        external_ids: Vec<String>,
    ) -> Result<u32, DirectoryError> {
        Ok(self
            .backends
            .directory
            .move_people(&config, from.into(), to.into(), &external_ids)?)
    }

    fn list_linked(
        &mut self,
        config: String,
        kind: SyncTarget,
    ) -> Result<Vec<String>, DirectoryError> {
        Ok(self.backends.directory.list_linked(&config, kind.into())?)
    }

    fn list_linked_page(
        &mut self,
        config: String,
        kind: SyncTarget,
        after: Option<String>,
        limit: u32,
    ) -> Result<Vec<String>, DirectoryError> {
        Ok(self.backends.directory.list_linked_page(
            &config,
            kind.into(),
            after.as_deref(),
            limit,
        )?)
    }

    fn list_roles(&mut self) -> Result<Vec<Role>, DirectoryError> {
        let roles = self.backends.directory.list_roles()?;
        Ok(roles
            .into_iter()
            .map(|r| Role {
                name: r.name,
                kind: r.kind.into(),
                privileged: r.privileged,
            })
            .collect())
    }

    fn list_fields(&mut self, kind: SyncTarget) -> Result<Vec<FieldSpec>, DirectoryError> {
        let fields = self.backends.directory.list_fields(kind.into())?;
        Ok(fields
            .into_iter()
            .map(|f| FieldSpec {
                name: f.name,
                required: f.required,
            })
            .collect())
    }
}
