//! Runs the pure [`Keeper`] in a page (or in Node): reads the clock, delivers its outputs as
//! events and tab messages, keeps its one timer armed for [`Keeper::next_wakeup`], and feeds
//! it what happens around it (storage events, tab messages, the page waking up).
//!
//! The keeper is borrowed only while it computes; events are delivered after the borrow
//! ends, so an event listener may call back into the keeper (even `dispose()`).

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::Function;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BroadcastChannel, MessageEvent, StorageEvent};

use crate::error::KeeperError;
use crate::keeper::{Keeper, KeeperConfig, Output};
use crate::schedule::timer_delay;
use crate::store::{StorageKind, Store, StoreError};
use crate::web::listen::Listener;
use crate::web::timer::Timer;
use crate::web::{storage, tabs};

/// Delivers events to the JavaScript facade: `emit(type, a, b)`.
pub struct Host {
    /// `(type, a, b) => void`: `changed` (origin), `expired`, `cleared` (reason),
    /// `error` (code, message).
    pub emit: Function,
    /// The injected clock (`() => epoch ms`), if any.
    pub clock: Option<Function>,
}

impl Host {
    fn now(&self) -> f64 {
        self.clock
            .as_ref()
            .and_then(|f| f.call0(&JsValue::UNDEFINED).ok())
            .and_then(|v| v.as_f64())
            .filter(|v| v.is_finite())
            .unwrap_or_else(js_sys::Date::now)
    }

    fn deliver(&self, outputs: Vec<Output>, channel: Option<&BroadcastChannel>) {
        for output in outputs {
            let (kind, a, b): (&str, JsValue, JsValue) = match output {
                Output::Changed(origin) => ("changed", origin.as_str().into(), JsValue::UNDEFINED),
                Output::Expired => ("expired", JsValue::UNDEFINED, JsValue::UNDEFINED),
                Output::Cleared(reason) => ("cleared", reason.as_str().into(), JsValue::UNDEFINED),
                Output::Error(e) => ("error", e.code().into(), e.message().into()),
                Output::Broadcast(message) => {
                    if let Some(channel) = channel {
                        tabs::post(channel, message);
                    }
                    continue;
                }
            };
            // A listener that throws is the facade's to report; it must not stop the others.
            let _ = self.emit.call3(&JsValue::UNDEFINED, &kind.into(), &a, &b);
        }
    }
}

struct State {
    keeper: Keeper,
    host: Rc<Host>,
    channel: Option<BroadcastChannel>,
    timer: Option<Timer>,
    listeners: Vec<Listener>,
    disposed: bool,
}

/// A keeper running in this page.
pub struct Driver {
    state: Rc<RefCell<State>>,
}

fn boxed(store: Result<storage::WebStore, StoreError>) -> Result<Box<dyn Store>, StoreError> {
    store.map(|s| Box::new(s) as Box<dyn Store>)
}

impl Driver {
    /// Starts a keeper: opens storage, restores, and starts listening. Its first outputs
    /// (restore, storage faults) wait for [`Driver::flush`], so that the app can subscribe
    /// first.
    pub fn start(config: KeeperConfig, host: Host) -> Driver {
        let host = Rc::new(host);
        let now = host.now();
        let web = config.storage != StorageKind::Memory;
        let open = |kind| {
            if web {
                storage::open(kind)
            } else {
                Err(StoreError::Unavailable)
            }
        };
        let keeper = Keeper::new(
            config,
            boxed(open(StorageKind::Session)),
            boxed(open(StorageKind::Local)),
            now,
        );
        let channel = if keeper.config().cross_tab {
            tabs::open(&keeper.config().namespace)
        } else {
            None
        };
        let state = Rc::new(RefCell::new(State {
            keeper,
            host,
            channel,
            timer: None,
            listeners: Vec::new(),
            disposed: false,
        }));
        let weak = Rc::downgrade(&state);
        {
            let mut s = state.borrow_mut();
            let timer_target = weak.clone();
            s.timer = Some(Timer::new(move || {
                let _ = run(&timer_target, |k, now| k.tick(now));
            }));
            s.listeners = listen_to_page(&weak, s.channel.as_ref(), s.keeper.config().cross_tab);
            s.reschedule(now);
        }
        Driver { state }
    }

    /// Runs `f` on the keeper with the current time, then delivers what it produced.
    pub fn run<R>(&self, f: impl FnOnce(&mut Keeper, f64) -> R) -> Result<R, KeeperError> {
        run(&Rc::downgrade(&self.state), f)
    }

    /// Reads the keeper without changing it.
    pub fn read<R>(&self, f: impl FnOnce(&Keeper) -> R) -> Option<R> {
        self.state.try_borrow().ok().map(|s| f(&s.keeper))
    }

    /// Delivers the outputs of starting up.
    pub fn flush(&self) {
        let _ = self.run(|_, _| ());
    }

    /// Stops every timer and listener and closes the tab channel. Idempotent.
    pub fn dispose(&self) {
        let Ok(mut s) = self.state.try_borrow_mut() else {
            return;
        };
        s.disposed = true;
        s.timer = None;
        s.listeners.clear();
        if let Some(channel) = s.channel.take() {
            channel.close();
        }
    }
}

fn run<R>(
    state: &Weak<RefCell<State>>,
    f: impl FnOnce(&mut Keeper, f64) -> R,
) -> Result<R, KeeperError> {
    let state = state.upgrade().ok_or(KeeperError::Disposed)?;
    let (result, outputs, host, channel) = {
        let mut s = state.try_borrow_mut().map_err(|_| KeeperError::Busy)?;
        if s.disposed {
            return Err(KeeperError::Disposed);
        }
        let now = s.host.now();
        let result = f(&mut s.keeper, now);
        let outputs = s.keeper.take_outputs();
        s.reschedule(now);
        (result, outputs, s.host.clone(), s.channel.clone())
    };
    host.deliver(outputs, channel.as_ref());
    Ok(result)
}

impl State {
    fn reschedule(&mut self, now: f64) {
        let due = self.keeper.next_wakeup();
        if let Some(timer) = &mut self.timer {
            match due {
                Some(at) => timer.arm(timer_delay(at, now)),
                None => timer.cancel(),
            }
        }
    }
}

/// Storage events, tab messages, and the moments a page wakes up (timers in background
/// tabs are throttled or frozen, and a sleeping laptop fires nothing).
fn listen_to_page(
    state: &Weak<RefCell<State>>,
    channel: Option<&BroadcastChannel>,
    cross_tab: bool,
) -> Vec<Listener> {
    let mut listeners = Vec::new();
    let Ok(window) = js_sys::global().dyn_into::<web_sys::Window>() else {
        return listeners;
    };
    let wake = |state: &Weak<RefCell<State>>| {
        let state = state.clone();
        move |_event: web_sys::Event| {
            let _ = run(&state, |k, now| k.tick(now));
        }
    };
    for kind in ["focus", "pageshow", "online"] {
        listeners.extend(Listener::new(&window, kind, wake(state)));
    }
    if let Some(document) = window.document() {
        let target = state.clone();
        let doc = document.clone();
        listeners.extend(Listener::new(&document, "visibilitychange", move |_| {
            if doc.visibility_state() == web_sys::VisibilityState::Visible {
                let _ = run(&target, |k, now| k.tick(now));
            }
        }));
    }
    if cross_tab {
        let target = state.clone();
        listeners.extend(Listener::new(&window, "storage", move |event| {
            let Some(event) = event.dyn_ref::<StorageEvent>() else {
                return;
            };
            let ours = match event.key() {
                None => true, // localStorage.clear()
                Some(key) => target
                    .upgrade()
                    .and_then(|s| s.try_borrow().ok().map(|s| key == s.keeper.storage_key()))
                    .unwrap_or(false),
            };
            if ours {
                let _ = run(&target, |k, now| k.on_shared_storage_changed(now));
            }
        }));
        if let Some(channel) = channel {
            let target = state.clone();
            listeners.extend(Listener::new(channel, "message", move |event| {
                let Some(message) = event
                    .dyn_ref::<MessageEvent>()
                    .and_then(|e| tabs::parse(&e.data()))
                else {
                    return;
                };
                let _ = run(&target, |k, now| k.on_tab_message(message, now));
            }));
        }
    }
    listeners
}
