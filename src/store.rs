//! Where records are kept: one small trait over web storage (local, session) and memory.
//!
//! The browser implementations live in `wasm::storage`; [`MemoryStore`] is the in-memory one,
//! used as a stand-in for web storage by the host tests of the keeper.

use std::cell::RefCell;
use std::collections::BTreeMap;

/// Which storage holds the tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageKind {
    /// `sessionStorage`: this tab, until it closes.
    Session,
    /// `localStorage`: every tab of the origin, across browser restarts ("remember me").
    Local,
    /// This keeper's memory only.
    Memory,
}

impl StorageKind {
    /// The name used in options and `storageKind`.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageKind::Session => "session",
            StorageKind::Local => "local",
            StorageKind::Memory => "memory",
        }
    }

    /// The kind with this name.
    pub fn from_name(name: &str) -> Option<StorageKind> {
        Some(match name {
            "session" => StorageKind::Session,
            "local" => StorageKind::Local,
            "memory" => StorageKind::Memory,
            _ => return None,
        })
    }
}

/// Why web storage could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreError {
    /// There is no such storage here (Node, server-side rendering, a worker).
    Unavailable,
    /// Access throws `SecurityError` (sandboxed iframe, blocked cookies, some private modes).
    Blocked,
    /// A write threw `QuotaExceededError`.
    Quota,
    /// Any other exception.
    Failed,
}

/// A string key-value store, as web storage is.
pub trait Store {
    /// The value under `key`, if any.
    fn get(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Stores `value` under `key`.
    fn set(&self, key: &str, value: &str) -> Result<(), StoreError>;
    /// Removes `key`.
    fn remove(&self, key: &str) -> Result<(), StoreError>;
}

/// A store in memory, with an optional byte quota to play a full web storage.
#[derive(Debug, Default)]
pub struct MemoryStore {
    items: RefCell<BTreeMap<String, String>>,
    quota: Option<usize>,
}

impl MemoryStore {
    /// An empty store without a quota.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store that refuses writes past `bytes` in all.
    pub fn with_quota(bytes: usize) -> Self {
        MemoryStore {
            items: RefCell::default(),
            quota: Some(bytes),
        }
    }
}

impl Store for MemoryStore {
    fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.items.borrow().get(key).cloned())
    }

    fn set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let mut items = self.items.borrow_mut();
        if let Some(quota) = self.quota {
            let others: usize = items
                .iter()
                .filter(|(k, _)| *k != key)
                .map(|(k, v)| k.len() + v.len())
                .sum();
            if others + key.len() + value.len() > quota {
                return Err(StoreError::Quota);
            }
        }
        items.insert(key.to_owned(), value.to_owned());
        Ok(())
    }

    fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.items.borrow_mut().remove(key);
        Ok(())
    }
}

impl<S: Store + ?Sized> Store for std::rc::Rc<S> {
    fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        (**self).get(key)
    }
    fn set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        (**self).set(key, value)
    }
    fn remove(&self, key: &str) -> Result<(), StoreError> {
        (**self).remove(key)
    }
}
