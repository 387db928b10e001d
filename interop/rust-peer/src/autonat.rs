//! AutoNAT v1 (`--autonat`, rust-libp2p's one behaviour is client and server): every probe
//! answered as an `autonat` event, and each change of the NAT status as `autonat:status`.
//!
//!   {"event":"autonat","role":"client"|"server","peer":..,"ok":true,"addr":..}
//!   {"event":"autonat","role":..,"peer":..,"ok":false,"error":..}
//!   {"event":"autonat:status","status":"public"|"private"|"unknown","addr"?:..}
//!
//! Dial-back requests themselves (the `Request` events) are not reported: the answer says all.
//!
//! AutoNAT v2 (`--autonat-v2`, client and server; the client tests its address candidates
//! with every connected server that supports v2, every 5 s), one `autonat-v2` event per test:
//!
//!   {"event":"autonat-v2","role":"client","server":..,"addr":..,"ok":..,"bytesSent":N,"error"?:..}
//!   {"event":"autonat-v2","role":"server","client":..,"addr":..,"ok":..,"dataAmount":N,"error"?:..}

use crate::output::emit_event;
use libp2p::autonat::v1::{Event, InboundProbeEvent, NatStatus, OutboundProbeEvent};
use serde_json::json;

pub fn on_event(event: Event) {
    match event {
        Event::InboundProbe(InboundProbeEvent::Response { peer, address, .. }) => {
            emit_event("autonat", json!({ "role": "server", "peer": peer.to_string(), "ok": true, "addr": address.to_string() }))
        }
        Event::InboundProbe(InboundProbeEvent::Error { peer, error, .. }) => {
            emit_event("autonat", json!({ "role": "server", "peer": peer.to_string(), "ok": false, "error": format!("{error:?}") }))
        }
        Event::OutboundProbe(OutboundProbeEvent::Response { peer, address, .. }) => {
            emit_event("autonat", json!({ "role": "client", "peer": peer.to_string(), "ok": true, "addr": address.to_string() }))
        }
        Event::OutboundProbe(OutboundProbeEvent::Error { peer, error, .. }) => emit_event(
            "autonat",
            json!({ "role": "client", "peer": peer.map(|p| p.to_string()), "ok": false, "error": format!("{error:?}") }),
        ),
        Event::StatusChanged { new, .. } => {
            let fields = match new {
                NatStatus::Public(addr) => json!({ "status": "public", "addr": addr.to_string() }),
                NatStatus::Private => json!({ "status": "private" }),
                NatStatus::Unknown => json!({ "status": "unknown" }),
            };
            emit_event("autonat:status", fields)
        }
        Event::InboundProbe(InboundProbeEvent::Request { .. }) | Event::OutboundProbe(OutboundProbeEvent::Request { .. }) => {}
    }
}

pub fn on_v2_client_event(event: libp2p::autonat::v2::client::Event) {
    let mut fields = json!({
        "role": "client",
        "server": event.server.to_string(),
        "addr": event.tested_addr.to_string(),
        "ok": event.result.is_ok(),
        "bytesSent": event.bytes_sent,
    });
    if let Err(e) = event.result {
        fields["error"] = json!(e.to_string());
    }
    emit_event("autonat-v2", fields)
}

pub fn on_v2_server_event(event: libp2p::autonat::v2::server::Event) {
    let mut fields = json!({
        "role": "server",
        "client": event.client.to_string(),
        "addr": event.tested_addr.to_string(),
        "ok": event.result.is_ok(),
        "dataAmount": event.data_amount,
    });
    if let Err(e) = event.result {
        fields["error"] = json!(e.to_string());
    }
    emit_event("autonat-v2", fields)
}
