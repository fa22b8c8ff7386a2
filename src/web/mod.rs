//! Everything that touches the browser (or Node's globals): web storage, timers, event
//! listeners, messages between tabs, and the driver that runs the pure keeper on them.
//! Each handle cleans up after itself on `Drop`, so disposing a keeper is dropping things.

pub mod allocator;
pub mod convert;
pub mod driver;
pub mod http;
pub mod listen;
pub mod lock;
pub mod storage;
pub mod tabs;
pub mod timer;
