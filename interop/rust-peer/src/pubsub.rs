//! `pubsub.*` commands on rust-libp2p's gossipsub (/meshsub/1.1.0 and 1.0.0, plus floodsub
//! peers), signed messages, and `pubsub:message` events.

use crate::commands::{b64, b64_arg, obj, str_arg, CmdResult};
use crate::node::{Behaviour, Ctx};
use crate::output::emit_event;
use libp2p::gossipsub::{self, IdentTopic, MessageAuthenticity, MessageId, PublishError};
use libp2p::{identity, Swarm};
use serde_json::{json, Map, Value};

pub fn behaviour(key: &identity::Keypair) -> Result<gossipsub::Behaviour, String> {
    let config = gossipsub::ConfigBuilder::default()
        // go's (and the js peer's) message id, `from || seqno`, so IHAVE/IWANT ids match across
        // implementations; rust-libp2p's default is a different string
        .message_id_fn(|m: &gossipsub::Message| {
            let mut id = m.source.map(|p| p.to_bytes()).unwrap_or_default();
            id.extend_from_slice(&m.sequence_number.unwrap_or_default().to_be_bytes());
            MessageId::from(id)
        })
        // the interop network mixes in floodsub nodes
        .support_floodsub()
        .build()
        .map_err(|e| format!("gossipsub config: {e}"))?;
    gossipsub::Behaviour::new(MessageAuthenticity::Signed(key.clone()), config).map_err(|e| format!("gossipsub: {e}"))
}

pub fn on_event(event: gossipsub::Event) {
    if let gossipsub::Event::Message { message, .. } = event {
        emit_event(
            "pubsub:message",
            json!({
                "topic": message.topic.to_string(),
                "from": message.source.map(|p| p.to_string()).unwrap_or_default(),
                "seqno": message.sequence_number.map(|s| format!("{s:016x}")).unwrap_or_default(),
                "data": b64(&message.data),
            }),
        );
    }
}

fn gossipsub_of(swarm: &mut Swarm<Behaviour>) -> Result<&mut gossipsub::Behaviour, String> {
    swarm.behaviour_mut().gossipsub.as_mut().ok_or_else(|| "pubsub is not enabled (start with --pubsub gossipsub)".to_string())
}

pub async fn command(ctx: Ctx, cmd: &str, args: Value) -> CmdResult {
    let topic = IdentTopic::new(str_arg(&args, "topic")?);
    let data = if cmd == "pubsub.publish" { b64_arg(&args, "data")? } else { Vec::new() };
    let cmd = cmd.to_string();
    ctx.with_swarm(move |swarm, _state, tx| {
        let result = gossipsub_of(swarm).and_then(|ps| match cmd.as_str() {
            "pubsub.subscribe" => ps.subscribe(&topic).map(|_| Map::new()).map_err(|e| e.to_string()),
            "pubsub.unsubscribe" => {
                ps.unsubscribe(&topic);
                Ok(Map::new())
            }
            "pubsub.publish" => match ps.publish(topic, data) {
                // the contract: publishing with no subscribed peer is not an error
                Ok(_) | Err(PublishError::NoPeersSubscribedToTopic) => Ok(Map::new()),
                Err(e) => Err(e.to_string()),
            },
            "pubsub.peers" => {
                let hash = topic.hash();
                let peers: Vec<String> = ps.all_peers().filter(|(_, topics)| topics.contains(&&hash)).map(|(p, _)| p.to_string()).collect();
                Ok(obj(json!({ "peers": peers })))
            }
            other => Err(format!("unknown command {other:?}")),
        });
        let _ = tx.send(result);
    })
    .await?
}
