//! Whether a message, as JSON, is what the schema ([`super::schema`]) says: its kind known, no
//! member unknown, none missing, each of its type. The conformance tests hold the codec to it,
//! and the host simulator checks every output it carries out.

use super::schema::{name_sets, Member, Union, RECORDS};
use crate::json::value::Value;

/// Whether `v` is a value of the TypeScript type `ts` as the schema writes it; why not.
pub fn check(v: &Value, ts: &str) -> Result<(), String> {
    let fits = match ts {
        "string" => v.as_str().is_some(),
        "number" => v.as_f64().is_some() || *v == Value::Null, // -Infinity travels as null
        "boolean" => v.as_bool().is_some(),
        _ if ts.ends_with("[]") => {
            let item = &ts[..ts.len() - 2];
            let items = v.elements().ok_or_else(|| format!("not a {ts}"))?;
            return items.iter().try_for_each(|x| check(x, item));
        }
        "TokenErrorCode" => v.as_str().is_some_and(|c| c.starts_with("ERR_")),
        _ => {
            if let Some(union) = union_named(ts) {
                return check_union(v, union);
            }
            if let Some((_, _, members)) = RECORDS.iter().find(|r| r.0 == ts) {
                return check_members(v, members, &[]);
            }
            if let Some((_, names)) = name_sets().into_iter().find(|n| n.0 == ts) {
                v.as_str().is_some_and(|s| names.contains(&s))
            } else {
                true // a literal union or an open record: not checked here
            }
        }
    };
    fits.then_some(()).ok_or_else(|| format!("not a {ts}"))
}

fn union_named(name: &str) -> Option<&'static Union> {
    super::schema::UNIONS
        .iter()
        .copied()
        .find(|u| u.name == name)
}

/// The members of `v` against `members` (besides `skip`): none unknown, none missing.
fn check_members(v: &Value, members: &[Member], skip: &[&str]) -> Result<(), String> {
    let present = v.members().ok_or("not an object")?;
    for (name, value) in present {
        if skip.contains(&name.as_str()) {
            continue;
        }
        let m = members
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| format!("member {name} is not in the schema"))?;
        check(value, m.ts).map_err(|e| format!("{name}: {e}"))?;
    }
    for m in members.iter().filter(|m| !m.optional) {
        if v.get(m.name).is_none() {
            return Err(format!("member {} is missing", m.name));
        }
    }
    Ok(())
}

/// `v` as a message of `union`.
pub fn check_union(v: &Value, union: &Union) -> Result<(), String> {
    check_union_within(v, union, &[])
}

/// `v` as a `union` whose members come beside `outer` (an event inside an output).
fn check_union_within(v: &Value, union: &Union, outer: &[&str]) -> Result<(), String> {
    let tag = v
        .get(union.tag)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("no {} tag", union.tag))?;
    let kind = union
        .kind(tag)
        .ok_or_else(|| format!("{} {tag:?} is not in the schema", union.name))?;
    let mut skip: Vec<&str> = outer.to_vec();
    skip.push(union.tag);
    skip.extend(kind.members.iter().map(|m| m.name));
    if let Some(other) = kind.with {
        let inner = union_named(other).ok_or("unknown type")?;
        check_union_within(v, inner, &skip)?;
        let inner_kind = inner.kind(v.get(inner.tag).and_then(Value::as_str).unwrap_or(""));
        skip.push(inner.tag);
        skip.extend(
            inner_kind
                .into_iter()
                .flat_map(|k| k.members.iter().map(|m| m.name)),
        );
    }
    // The kind's own members are checked; everything else must be known.
    let own: Vec<&str> = skip
        .iter()
        .copied()
        .filter(|name| !kind.members.iter().any(|m| m.name == *name))
        .collect();
    check_members(v, kind.members, &own).map_err(|e| format!("{} {tag}: {e}", union.name))
}
