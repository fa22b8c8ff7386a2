//! Where the keeper's record lives: session or local storage (or nowhere, in memory), what
//! happens when web storage is missing, blocked or full, and the tombstone that tells other
//! tabs why a session ended.

use super::outbox::Outbox;
use crate::error::KeeperError;
use crate::record::{self, ClearReason, Record, RecordError, StoredSession};
use crate::store::{StorageKind, Store, StoreError};

/// The web storages as opened, and where the tokens really are.
pub struct Placement {
    key: String,
    session_store: Option<Box<dyn Store>>,
    local_store: Option<Box<dyn Store>>,
    /// Why session (0) and local (1) storage could not be opened, and whether that was
    /// already reported: a missing storage is reported once, not at every write.
    open_errors: [Option<(StoreError, bool)>; 2],
    configured: StorageKind,
    kind: StorageKind,
}

/// What a web storage failure means to the app.
pub fn store_error(e: StoreError) -> KeeperError {
    match e {
        StoreError::Unavailable => KeeperError::StorageUnavailable,
        StoreError::Blocked => KeeperError::StorageBlocked,
        StoreError::Quota => KeeperError::StorageQuota,
        StoreError::Failed => KeeperError::StorageFailed,
    }
}

/// What an unreadable record means to the app.
pub fn record_error(e: RecordError) -> KeeperError {
    match e {
        RecordError::Corrupt => KeeperError::RecordCorrupt,
        RecordError::Foreign => KeeperError::RecordForeign,
        RecordError::FutureVersion => KeeperError::RecordVersion,
    }
}

impl Placement {
    /// Opens the configured storage; `storage: "memory"` never touches web storage, not even
    /// to read. Only the configured storage's failure is reported now; the other one's
    /// matters once it is needed (remember-me), and is reported then.
    pub fn open(
        key: String,
        configured: StorageKind,
        session: Result<Box<dyn Store>, StoreError>,
        local: Result<Box<dyn Store>, StoreError>,
        out: &mut Outbox,
    ) -> Placement {
        let mut placement = Placement {
            key,
            session_store: None,
            local_store: None,
            open_errors: [
                session.as_ref().err().map(|e| (*e, false)),
                local.as_ref().err().map(|e| (*e, false)),
            ],
            configured,
            kind: StorageKind::Memory,
        };
        if configured == StorageKind::Memory {
            return placement;
        }
        match placement.take_open_error(configured) {
            None => placement.kind = configured,
            Some(e) => out.error(store_error(e)),
        }
        placement.session_store = session.ok();
        placement.local_store = local.ok();
        placement
    }

    /// The storage key of the record.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Where the tokens are really kept now.
    pub fn kind(&self) -> StorageKind {
        self.kind
    }

    /// Whether the tokens now live in localStorage (shared by every tab).
    pub fn is_shared(&self) -> bool {
        self.kind == StorageKind::Local
    }

    /// Where tokens set with or without "remember me" go.
    pub fn target(&self, remember: bool) -> StorageKind {
        match (self.configured, remember) {
            (StorageKind::Memory, _) => StorageKind::Memory,
            (_, true) => StorageKind::Local,
            (configured, false) => configured,
        }
    }

    fn store(&self, kind: StorageKind) -> Option<&dyn Store> {
        match kind {
            StorageKind::Session => self.session_store.as_deref(),
            StorageKind::Local => self.local_store.as_deref(),
            StorageKind::Memory => None,
        }
    }

    /// Why `kind` could not be opened, the first time this is asked.
    fn take_open_error(&mut self, kind: StorageKind) -> Option<StoreError> {
        let slot = match kind {
            StorageKind::Session => &mut self.open_errors[0],
            StorageKind::Local => &mut self.open_errors[1],
            StorageKind::Memory => return None,
        };
        match slot {
            Some((e, reported)) if !*reported => {
                *reported = true;
                Some(*e)
            }
            _ => None,
        }
    }

    /// The session stored under the key (sessionStorage first, then localStorage); records
    /// that cannot be read are reported and left as they are.
    pub fn restore(&mut self, out: &mut Outbox) -> Option<StoredSession> {
        for kind in [StorageKind::Session, StorageKind::Local] {
            let Some(store) = self.store(kind) else {
                continue;
            };
            let text = match store.get(&self.key) {
                Ok(Some(text)) => text,
                Ok(None) => continue,
                Err(e) => {
                    out.error(store_error(e));
                    continue;
                }
            };
            match record::parse(&text) {
                Ok(Record::Session(s)) => {
                    self.kind = kind;
                    return Some(s);
                }
                Ok(Record::Cleared { .. }) => {}
                Err(e) => out.error(record_error(e)),
            }
        }
        None
    }

    /// The record in localStorage now, if readable: another tab's latest word.
    pub fn read_shared(&self) -> Option<Result<Record, KeeperError>> {
        let text = match self.local_store.as_deref()?.get(&self.key) {
            Ok(text) => text?,
            Err(e) => return Some(Err(store_error(e))),
        };
        Some(record::parse(&text).map_err(record_error))
    }

    /// Writes `session` to `target` and removes it from the other web storage; the tokens are
    /// then where the result says. A failed write keeps the tokens in memory and says why.
    pub fn persist(&mut self, session: &StoredSession, target: StorageKind, out: &mut Outbox) {
        self.kind = self.write(session, target, out);
    }

    fn write(
        &mut self,
        session: &StoredSession,
        target: StorageKind,
        out: &mut Outbox,
    ) -> StorageKind {
        if target == StorageKind::Memory {
            return StorageKind::Memory;
        }
        let text = record::serialize(&Record::Session(session.clone()));
        let written = match self.store(target) {
            None => match self.take_open_error(target) {
                Some(e) => Err(e),
                None => return StorageKind::Memory, // already reported
            },
            Some(store) => store.set(&self.key, &text),
        };
        match written {
            Ok(()) => {
                let other = match target {
                    StorageKind::Local => StorageKind::Session,
                    _ => StorageKind::Local,
                };
                if let Some(store) = self.store(other) {
                    let _ = store.remove(&self.key);
                }
                target
            }
            Err(e) => {
                out.error(store_error(e));
                // A stale copy must not come back at the next start.
                self.remove_everywhere();
                StorageKind::Memory
            }
        }
    }

    /// Rewrites the record where it is (activity time); false when that failed.
    pub fn rewrite(&self, session: &StoredSession) -> bool {
        self.store(self.kind).is_some_and(|store| {
            store
                .set(
                    &self.key,
                    &record::serialize(&Record::Session(session.clone())),
                )
                .is_ok()
        })
    }

    /// A tombstone in localStorage, so that tabs listening to it learn why before they see
    /// the removal.
    pub fn write_tombstone(&self, reason: ClearReason, at: f64) {
        if let Some(local) = self.local_store.as_deref() {
            let _ = local.set(
                &self.key,
                &record::serialize(&Record::Cleared { reason, at }),
            );
        }
    }

    /// Removes the record from both web storages.
    pub fn remove_everywhere(&self) {
        for kind in [StorageKind::Session, StorageKind::Local] {
            if let Some(store) = self.store(kind) {
                let _ = store.remove(&self.key);
            }
        }
    }

    /// Signed out: the next tokens go where the options say again.
    pub fn after_sign_out(&mut self) {
        if self.kind == StorageKind::Local && self.configured != StorageKind::Local {
            self.kind = self.configured;
        }
    }

    /// Another tab stored tokens in localStorage, and this tab took them.
    pub fn now_shared(&mut self) {
        self.kind = StorageKind::Local;
    }
}
