//! Plain stream protocols, written from interop/README.md, the ping spec and the perf spec on
//! rust-libp2p's generic stream API: /ipfs/ping/1.0.0 (served, and the `ping` command),
//! /echo/1.0.0, /test/reset/1.0.0, /perf/1.0.0 (with --perf).

use crate::commands::{obj, peer_arg, CmdResult};
use crate::node::Ctx;
use crate::output::emit_event;
use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use libp2p::{PeerId, Stream, StreamProtocol};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub const ECHO: StreamProtocol = StreamProtocol::new("/echo/1.0.0");
pub const RESET: StreamProtocol = StreamProtocol::new("/test/reset/1.0.0");
pub const PERF: StreamProtocol = StreamProtocol::new("/perf/1.0.0");
pub const PING: StreamProtocol = StreamProtocol::new("/ipfs/ping/1.0.0");

const CHUNK: usize = 64 * 1024;
/// An inbound stream that stalls this long is given up (as the go peer does).
const INBOUND_STREAM_LIMIT: Duration = Duration::from_secs(120);

/// The echo payload of stream `index` (interop/README.md): xorshift32 seeded with
/// ((index + 1) * 0x9E3779B9) mod 2^32 (1 if 0), each output little-endian, truncated.
pub fn pattern(len: usize, index: u32) -> Vec<u8> {
    let mut x = index.wrapping_add(1).wrapping_mul(0x9E37_79B9);
    if x == 0 {
        x = 1;
    }
    let mut out = Vec::with_capacity(len + 4);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The protocols we serve (inbound.rs negotiates them).
pub fn served(cfg: &crate::Config) -> Vec<StreamProtocol> {
    let mut protocols = vec![PING, ECHO, RESET];
    if cfg.perf {
        protocols.push(PERF);
    }
    protocols
}

/// Runs a handler task for every inbound stream.
pub fn serve(mut incoming: futures::channel::mpsc::UnboundedReceiver<crate::inbound::Incoming>) {
    tokio::spawn(async move {
        while let Some((peer, protocol, stream)) = incoming.next().await {
            if protocol == ECHO {
                tokio::spawn(handle_echo(peer, stream));
            } else if protocol == PING {
                tokio::spawn(handle_ping(stream));
            } else if protocol == RESET {
                tokio::spawn(handle_reset(stream));
            } else if protocol == PERF {
                tokio::spawn(handle_perf(peer, stream));
            }
        }
    });
}

async fn handle_echo(peer: PeerId, mut stream: Stream) {
    let mut total: u64 = 0;
    let mut buf = vec![0u8; CHUNK];
    let result = tokio::time::timeout(INBOUND_STREAM_LIMIT, async {
        loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            stream.write_all(&buf[..n]).await?;
            total += n as u64;
        }
        // the remote half-closed and everything was echoed: close our side
        stream.close().await
    })
    .await
    .unwrap_or_else(|_| Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "echo stream stalled")));
    match result {
        Ok(()) => emit_event("echo:done", json!({ "peerId": peer.to_string(), "bytes": total })),
        Err(e) => {
            log!("echo stream from {peer} failed after {total} bytes: {e}");
            // dropping an open stream resets it
            drop(stream);
            emit_event("echo:error", json!({ "peerId": peer.to_string(), "bytes": total, "error": e.to_string() }));
        }
    }
}

/// Echoes 32-byte pings until the remote closes its side, then closes ours.
async fn handle_ping(mut stream: Stream) {
    let mut buf = [0u8; 32];
    loop {
        match tokio::time::timeout(INBOUND_STREAM_LIMIT, read_ping(&mut stream, &mut buf)).await {
            Ok(Ok(true)) => {
                if stream.write_all(&buf).await.and(stream.flush().await).is_err() {
                    return;
                }
            }
            Ok(Ok(false)) => {
                let _ = stream.close().await;
                return;
            }
            // a broken or stalled ping stream is dropped, which resets it
            _ => return,
        }
    }
}

/// Fills `buf` with the next ping; false at a clean end before its first byte.
async fn read_ping(stream: &mut Stream, buf: &mut [u8; 32]) -> std::io::Result<bool> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = stream.read(&mut buf[filled..]).await?;
        if n == 0 {
            if filled == 0 {
                return Ok(false);
            }
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        filled += n;
    }
    Ok(true)
}

async fn handle_reset(mut stream: Stream) {
    let mut buf = [0u8; 1024];
    match tokio::time::timeout(INBOUND_STREAM_LIMIT, stream.read(&mut buf)).await {
        Ok(Ok(n)) if n > 0 => {}
        other => log!("reset stream: read before the reset gave {other:?}"),
    }
    // dropped without a close: rust-libp2p's muxers reset it
    drop(stream);
}

async fn handle_perf(peer: PeerId, mut stream: Stream) {
    let mut received: u64 = 0;
    let mut sent: u64 = 0;
    let result = tokio::time::timeout(INBOUND_STREAM_LIMIT, async {
        let mut header = [0u8; 8];
        stream.read_exact(&mut header).await?;
        let wanted = u64::from_be_bytes(header);
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            received += n as u64;
        }
        let zeros = vec![0u8; CHUNK];
        while sent < wanted {
            let n = (wanted - sent).min(CHUNK as u64) as usize;
            stream.write_all(&zeros[..n]).await?;
            sent += n as u64;
        }
        stream.close().await
    })
    .await
    .unwrap_or_else(|_| Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "perf stream stalled")));
    let mut fields = json!({ "peerId": peer.to_string(), "received": received, "sent": sent });
    match result {
        Ok(()) => emit_event("perf:done", fields),
        Err(e) => {
            drop(stream);
            fields["error"] = json!(e.to_string());
            emit_event("perf:error", fields);
        }
    }
}

async fn open(ctx: &Ctx, peer: PeerId, protocol: StreamProtocol) -> Result<Stream, String> {
    // one Control opens one stream at a time: a clone per stream lets them open concurrently
    let mut control = ctx.control.clone();
    control.open_stream(peer, protocol).await.map_err(|e| format!("open stream: {e}"))
}

/// `ping`: `count` exchanges of 32 bytes on one /ipfs/ping/1.0.0 stream, round trips in ms.
pub async fn ping(ctx: Ctx, args: Value) -> CmdResult {
    let peer = peer_arg(&args)?;
    let count = args.get("count").and_then(Value::as_u64).filter(|c| *c > 0).unwrap_or(1);
    let mut stream = open(&ctx, peer, PING).await?;
    let mut rtts = Vec::new();
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(7) ^ std::process::id();
    for i in 0..count {
        let payload = pattern(32, seed.wrapping_add(i as u32));
        let start = Instant::now();
        stream.write_all(&payload).await.map_err(|e| format!("ping write after {i} pings: {e}"))?;
        stream.flush().await.map_err(|e| format!("ping flush after {i} pings: {e}"))?;
        let mut back = [0u8; 32];
        stream.read_exact(&mut back).await.map_err(|e| format!("ping read after {i} pings: {e}"))?;
        if back[..] != payload[..] {
            return Err(format!("ping {i}: the echo differs from the payload"));
        }
        rtts.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let _ = stream.close().await;
    Ok(obj(json!({ "rtts": rtts })))
}

async fn echo_once(ctx: &Ctx, peer: PeerId, size: usize, index: u32) -> Result<(), String> {
    let stream = open(ctx, peer, ECHO).await?;
    let want = pattern(size, index);
    let (mut reader, mut writer) = stream.split();
    let write = async {
        for chunk in want.chunks(CHUNK) {
            writer.write_all(chunk).await.map_err(|e| format!("write: {e}"))?;
        }
        writer.close().await.map_err(|e| format!("close write: {e}"))
    };
    let read = async {
        let mut got = Vec::with_capacity(size);
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = reader.read(&mut buf).await.map_err(|e| format!("read after {} bytes: {e}", got.len()))?;
            if n == 0 {
                return Ok(got);
            }
            if got.len() + n > size {
                return Err(format!("received more than the {size} bytes sent"));
            }
            got.extend_from_slice(&buf[..n]);
        }
    };
    let (written, got) = futures::join!(write, read);
    written?;
    let got = got?;
    if got != want {
        let first = got.iter().zip(want.iter()).position(|(a, b)| a != b).unwrap_or(got.len().min(want.len()));
        return Err(format!("echo mismatch: got {} bytes, want {}; first difference at offset {first}", got.len(), want.len()));
    }
    Ok(())
}

/// `echo`: S concurrent /echo/1.0.0 streams of N pattern bytes, each compared exactly.
pub async fn echo(ctx: Ctx, args: Value) -> CmdResult {
    let peer = peer_arg(&args)?;
    let size = args.get("bytes").and_then(Value::as_u64).unwrap_or(1024) as usize;
    let streams = args.get("streams").and_then(Value::as_u64).filter(|s| *s > 0).unwrap_or(1) as u32;
    let results = futures::future::join_all((0..streams).map(|i| {
        let ctx = ctx.clone();
        async move { echo_once(&ctx, peer, size, i).await.map_err(|e| format!("stream {i}: {e}")) }
    }))
    .await;
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    if let Some(first) = failures.first() {
        return Err(format!("{} of {streams} echo streams failed; first: {first}", failures.len()));
    }
    Ok(obj(json!({ "streams": streams, "bytes": size })))
}

/// `reset`: the remote must reset /test/reset/1.0.0 after our first bytes.
pub async fn reset(ctx: Ctx, args: Value) -> CmdResult {
    let peer = peer_arg(&args)?;
    let mut stream = open(&ctx, peer, RESET).await?;
    stream.write_all(b"reset me").await.map_err(|e| format!("write: {e}"))?;
    stream.flush().await.map_err(|e| format!("flush: {e}"))?;
    let mut buf = [0u8; 64];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => return Err("clean EOF: the stream ended instead of being reset".into()),
            Ok(_) => continue,
            Err(e) => return Ok(obj(json!({ "error": format!("{:?}: {e}", e.kind()) }))),
        }
    }
}

/// `perf`: one /perf/1.0.0 exchange as the client.
pub async fn perf(ctx: Ctx, args: Value) -> CmdResult {
    let peer = peer_arg(&args)?;
    let upload = args.get("upload").and_then(Value::as_u64).unwrap_or(0);
    let download = args.get("download").and_then(Value::as_u64).unwrap_or(0);
    let mut stream = open(&ctx, peer, PERF).await?;
    stream.write_all(&download.to_be_bytes()).await.map_err(|e| format!("write: {e}"))?;
    let zeros = vec![0u8; CHUNK];
    let mut uploaded = 0u64;
    while uploaded < upload {
        let n = (upload - uploaded).min(CHUNK as u64) as usize;
        stream.write_all(&zeros[..n]).await.map_err(|e| format!("upload after {uploaded} bytes: {e}"))?;
        uploaded += n as u64;
    }
    stream.close().await.map_err(|e| format!("close write: {e}"))?;
    let mut downloaded = 0u64;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = stream.read(&mut buf).await.map_err(|e| format!("download after {downloaded} bytes: {e}"))?;
        if n == 0 {
            break;
        }
        downloaded += n as u64;
    }
    if downloaded != download {
        return Err(format!("downloaded {downloaded} bytes, asked for {download}"));
    }
    Ok(obj(json!({ "uploaded": uploaded, "downloaded": downloaded })))
}
