//! Inbound streams for the protocols in streams.rs, each handed over as soon as it is
//! negotiated. libp2p-stream's `accept` queues at most one negotiated stream per protocol and
//! resets the rest ("Channel is full, dropping inbound stream"), so a burst of 100 concurrent
//! echo streams loses 99; this behaviour hands them to an unbounded channel instead (outbound
//! streams still go through libp2p-stream's `Control`).

use futures::channel::mpsc;
use futures::future::{ready, Ready};
use libp2p::core::transport::PortUse;
use libp2p::core::upgrade::DeniedUpgrade;
use libp2p::core::{Endpoint, InboundUpgrade, UpgradeInfo};
use libp2p::swarm::handler::{ConnectionEvent, FullyNegotiatedInbound};
use libp2p::swarm::{
    ConnectionDenied, ConnectionHandler, ConnectionHandlerEvent, ConnectionId, FromSwarm, NetworkBehaviour, SubstreamProtocol,
    THandler, THandlerInEvent, THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId, Stream, StreamProtocol};
use std::convert::Infallible;
use std::task::{Context, Poll};

pub type Incoming = (PeerId, StreamProtocol, Stream);

pub struct Behaviour {
    protocols: Vec<StreamProtocol>,
    sink: mpsc::UnboundedSender<Incoming>,
}

impl Behaviour {
    pub fn new(protocols: Vec<StreamProtocol>) -> (Self, mpsc::UnboundedReceiver<Incoming>) {
        let (sink, incoming) = mpsc::unbounded();
        (Behaviour { protocols, sink }, incoming)
    }

    fn handler(&self, peer: PeerId) -> Handler {
        Handler { peer, protocols: self.protocols.clone(), sink: self.sink.clone() }
    }
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = Handler;
    type ToSwarm = Infallible;

    fn handle_established_inbound_connection(&mut self, _: ConnectionId, peer: PeerId, _: &Multiaddr, _: &Multiaddr) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(self.handler(peer))
    }

    fn handle_established_outbound_connection(&mut self, _: ConnectionId, peer: PeerId, _: &Multiaddr, _: Endpoint, _: PortUse) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(self.handler(peer))
    }

    fn on_swarm_event(&mut self, _: FromSwarm) {}

    fn on_connection_handler_event(&mut self, _: PeerId, _: ConnectionId, event: THandlerOutEvent<Self>) {
        match event {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

pub struct Handler {
    peer: PeerId,
    protocols: Vec<StreamProtocol>,
    sink: mpsc::UnboundedSender<Incoming>,
}

pub struct Accept(Vec<StreamProtocol>);

impl UpgradeInfo for Accept {
    type Info = StreamProtocol;
    type InfoIter = std::vec::IntoIter<StreamProtocol>;

    fn protocol_info(&self) -> Self::InfoIter {
        self.0.clone().into_iter()
    }
}

impl InboundUpgrade<Stream> for Accept {
    type Output = (Stream, StreamProtocol);
    type Error = Infallible;
    type Future = Ready<Result<Self::Output, Self::Error>>;

    fn upgrade_inbound(self, stream: Stream, protocol: StreamProtocol) -> Self::Future {
        ready(Ok((stream, protocol)))
    }
}

impl ConnectionHandler for Handler {
    type FromBehaviour = Infallible;
    type ToBehaviour = Infallible;
    type InboundProtocol = Accept;
    type OutboundProtocol = DeniedUpgrade;
    type InboundOpenInfo = ();
    type OutboundOpenInfo = ();

    fn listen_protocol(&self) -> SubstreamProtocol<Self::InboundProtocol, Self::InboundOpenInfo> {
        SubstreamProtocol::new(Accept(self.protocols.clone()), ())
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ConnectionHandlerEvent<Self::OutboundProtocol, (), Self::ToBehaviour>> {
        Poll::Pending
    }

    fn on_behaviour_event(&mut self, event: Self::FromBehaviour) {
        match event {}
    }

    fn on_connection_event(&mut self, event: ConnectionEvent<Self::InboundProtocol, Self::OutboundProtocol>) {
        if let ConnectionEvent::FullyNegotiatedInbound(FullyNegotiatedInbound { protocol: (stream, protocol), .. }) = event {
            // an open stream keeps the connection alive by itself; if the receiver is gone
            // (stopping), dropping the stream resets it
            let _ = self.sink.unbounded_send((self.peer, protocol, stream));
        }
    }
}
