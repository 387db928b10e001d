//! The stdout side of the control contract (interop/README.md): one JSON object per line,
//! events and command replies, and nothing else. Logs go to stderr.

use serde_json::{Map, Value};
use std::io::Write;

/// Writes one line and flushes, so the harness sees it at once. The stdout lock keeps lines
/// from concurrent tasks whole.
fn write_line(value: &Value) {
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{value}").and_then(|_| out.flush()).is_err() {
        eprintln!("[rust-peer] error: writing stdout failed");
    }
}

/// `{"event":name, ...fields}`.
pub fn emit_event(name: &str, fields: Value) {
    let mut line = match fields {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    line.insert("event".into(), Value::from(name));
    write_line(&Value::Object(line));
}

/// `{"id":..,"ok":true,...result}` or `{"id":..,"ok":false,"error":".."}`.
pub fn reply(id: Value, result: Result<Map<String, Value>, String>) {
    let mut line = match result {
        Ok(map) => {
            let mut m = map;
            m.insert("ok".into(), Value::Bool(true));
            m
        }
        Err(error) => {
            let mut m = Map::new();
            m.insert("ok".into(), Value::Bool(false));
            m.insert("error".into(), Value::from(error));
            m
        }
    };
    line.insert("id".into(), id);
    write_line(&Value::Object(line));
}

/// Log to stderr with the peer's prefix.
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => {
        eprintln!("[rust-peer] {}", format!($($arg)*))
    };
}
