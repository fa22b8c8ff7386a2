//! Messages between the tabs of an origin: a BroadcastChannel per namespace.
//! (Token changes themselves travel through localStorage's `storage` events.)

use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::BroadcastChannel;

use crate::keeper::TabMessage;
use crate::record::ClearReason;

/// Opens the channel of `namespace`, where BroadcastChannel exists and there is a window
/// (in Node there are no tabs to talk to).
pub fn open(namespace: &str) -> Option<BroadcastChannel> {
    js_sys::global().dyn_into::<web_sys::Window>().ok()?;
    BroadcastChannel::new(&["tokenkeeper:", namespace].concat()).ok()
}

/// Posts `message` as a small plain object: `{type: "cleared", reason}`,
/// `{type: "activity", at}` or `{type: "rotated", spent, record}` (BroadcastChannel stays
/// within the origin, as localStorage does).
pub fn post(channel: &BroadcastChannel, message: TabMessage) {
    let object = Object::new();
    let set = |k: &str, v: JsValue| {
        let _ = Reflect::set(&object, &JsValue::from_str(k), &v);
    };
    match message {
        TabMessage::Cleared(reason) => {
            set("type", "cleared".into());
            set("reason", reason.as_str().into());
        }
        TabMessage::Activity(at) => {
            set("type", "activity".into());
            set("at", at.into());
        }
        TabMessage::Rotated { spent, record } => {
            set("type", "rotated".into());
            set("spent", spent.as_str().into());
            set("record", record.as_str().into());
        }
    }
    let _ = channel.post_message(&object);
}

/// Reads a message posted by [`post`]; anything else (another version, another library) is
/// ignored.
pub fn parse(data: &JsValue) -> Option<TabMessage> {
    let get = |k: &str| Reflect::get(data, &JsValue::from_str(k)).ok();
    match get("type")?.as_string()?.as_str() {
        "cleared" => Some(TabMessage::Cleared(ClearReason::from_name(
            &get("reason")?.as_string()?,
        )?)),
        "activity" => get("at")?
            .as_f64()
            .filter(|a| a.is_finite())
            .map(TabMessage::Activity),
        "rotated" => Some(TabMessage::Rotated {
            spent: get("spent")?.as_string()?,
            record: get("record")?.as_string()?,
        }),
        _ => None,
    }
}
