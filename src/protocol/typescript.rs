//! `js/generated/protocol.d.ts`, written from [`super::schema`]: the types the JavaScript
//! executor and facade are checked against (`tsc --checkJs`). A host test fails when the file
//! is stale; `TOKENKEEPER_WRITE_GENERATED=1 cargo test --lib protocol` rewrites it.

use super::schema::{name_sets, Kind, Member, Union, OPS, RECORDS, UNIONS};

fn members(out: &mut String, list: &[Member]) {
    for m in list {
        out.push(' ');
        out.push_str(m.name);
        out.push_str(if m.optional { "?: " } else { ": " });
        out.push_str(m.ts);
        out.push(';');
    }
}

fn kind_type(union: &Union, kind: &Kind) -> String {
    let mut out = String::from("{");
    if !union.tag.is_empty() {
        out.push_str(&format!(" {}: \"{}\";", union.tag, kind.name));
    }
    members(&mut out, kind.members);
    out.push_str(" }");
    match kind.with {
        Some(other) => format!("({out} & {other})"),
        None => out,
    }
}

/// The generated TypeScript declarations.
pub fn typescript() -> String {
    let mut out = String::from(
        "// Generated from src/protocol/schema.rs by `TOKENKEEPER_WRITE_GENERATED=1 cargo test --lib protocol`.\n\
         // The messages between the keeper (Rust) and the facade (JavaScript), and between tabs.\n\n\
         import type { TokenErrorCode } from \"./constants.js\";\n",
    );
    for (name, names) in name_sets() {
        let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
        out.push_str(&format!("\nexport type {name} = {};\n", quoted.join(" | ")));
    }
    for union in UNIONS {
        out.push_str(&format!(
            "\n/** {} */\nexport type {} =\n",
            union.doc, union.name
        ));
        for kind in union.kinds {
            out.push_str(&format!(
                "  /** {} */\n  | {}\n",
                kind.doc,
                kind_type(union, kind)
            ));
        }
        out.push_str(";\n");
        out.push_str(&format!(
            "/** The `{tag}` of a {name}. */\nexport type {name}Kind = {name}[\"{tag}\"];\n",
            tag = union.tag,
            name = union.name
        ));
    }
    for (name, doc, list) in RECORDS {
        out.push_str(&format!("\n/** {doc} */\nexport interface {name} {{"));
        members(&mut out, list);
        out.push_str(" }\n");
    }
    out.push_str(
        "\n/** Each op's arguments, besides `op` and `now`. */\nexport interface OpArgs {\n",
    );
    for (op, args, _) in OPS {
        out.push_str(&format!("  {op}: {{"));
        members(&mut out, args);
        out.push_str(" };\n");
    }
    out.push_str("}\n\n/** Each op's result (`r`). */\nexport interface OpResults {\n");
    for (op, _, result) in OPS {
        out.push_str(&format!("  {op}: {};\n", result.unwrap_or("undefined")));
    }
    out.push_str(
        "}\n\n/** The name of an op. */\nexport type OpName = keyof OpArgs;\n\n\
         /** The keeper's reply to one call. */\n\
         export interface Reply<R> { v: \"1\"; r?: R; e?: ErrorReply; out?: Output[]; s?: KeeperState; wake?: number }\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_typescript_is_up_to_date() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/js/generated/protocol.d.ts");
        let generated = typescript();
        if std::env::var_os("TOKENKEEPER_WRITE_GENERATED").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            on_disk == generated,
            "{path} is stale: run TOKENKEEPER_WRITE_GENERATED=1 cargo test --lib protocol"
        );
    }
}
