//! AutoNAT v1 (`--autonat`, rust-libp2p's one behaviour is client and server): every probe
//! answered as an `autonat` event, and each change of the NAT status as `autonat:status`.
//!
//!   {"event":"autonat","role":"client"|"server","peer":..,"ok":true,"addr":..}
//!   {"event":"autonat","role":..,"peer":..,"ok":false,"error":..}
//!   {"event":"autonat:status","status":"public"|"private"|"unknown","addr"?:..}
//!
//! Dial-back requests themselves (the `Request` events) are not reported: the answer says all.

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
