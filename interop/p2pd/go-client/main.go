// go-client drives two p2pd-compatible daemons (A and B) through go-libp2p-daemon's own Go
// client library, p2pclient v0.9.2, the way an application written in Go would: identify,
// connect, a stream each way through handlers, DHT (FIND_PEER, GET_PUBLIC_KEY, PROVIDE +
// FIND_PROVIDERS, GET_CLOSEST_PEERS) and pubsub (SUBSCRIBE, LIST_PEERS, PUBLISH).
//
// It prints one line per step, "ok STEP detail" or "FAIL STEP: error", and exits 1 at the first
// failure. p2pclient has no CONNMANAGER, LIST_PEERS or DISCONNECT calls; those are covered by
// the Python client.
//
// Usage: go-client -a CONTROL_MA -b CONTROL_MA -la LISTEN_MA -lb LISTEN_MA [-steps streams,dht,pubsub]
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	p2pclient "github.com/libp2p/go-libp2p-daemon/p2pclient"
	cid "github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	mh "github.com/multiformats/go-multihash"
)

// every wait in the driver is bounded by this
const stepTimeout = 30 * time.Second

func fail(step string, err error) {
	fmt.Printf("FAIL %s: %v\n", step, err)
	os.Exit(1)
}

func ok(step, detail string) { fmt.Printf("ok %s %s\n", step, detail) }

func client(control, listen string) *p2pclient.Client {
	c, err := p2pclient.NewClient(ma.StringCast(control), ma.StringCast(listen))
	if err != nil {
		fail("client", err)
	}
	return c
}

// upperHandler answers one line with the same line upper-cased, then closes.
func upperHandler(info *p2pclient.StreamInfo, s io.ReadWriteCloser) {
	defer s.Close()
	line, err := bufio.NewReader(s).ReadString('\n')
	if err != nil {
		return
	}
	_, _ = s.Write([]byte(strings.ToUpper(line)))
}

// roundTrip opens `proto` from `from` to `to`, sends a line and returns the answer. The handler
// request of p2pclient does not wait for the daemon's answer, so the first tries may find the
// protocol not registered yet: retry until the deadline.
func roundTrip(from *p2pclient.Client, to peer.ID, proto, text string) (string, error) {
	deadline := time.Now().Add(stepTimeout)
	for {
		_, s, err := from.NewStream(to, []string{proto})
		if err != nil {
			if time.Now().After(deadline) {
				return "", err
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		defer s.Close()
		if _, err := s.Write([]byte(text + "\n")); err != nil {
			return "", err
		}
		answer, err := bufio.NewReader(s).ReadString('\n')
		return strings.TrimSpace(answer), err
	}
}

func main() {
	controlA := flag.String("a", "", "daemon A's control multiaddr")
	controlB := flag.String("b", "", "daemon B's control multiaddr")
	listenA := flag.String("la", "/ip4/127.0.0.1/tcp/0", "where A's handlers listen")
	listenB := flag.String("lb", "/ip4/127.0.0.1/tcp/0", "where B's handlers listen")
	steps := flag.String("steps", "streams,dht,pubsub", "which groups to run")
	flag.Parse()
	want := map[string]bool{}
	for _, s := range strings.Split(*steps, ",") {
		want[s] = true
	}

	a := client(*controlA, *listenA)
	b := client(*controlB, *listenB)
	defer a.Close()
	defer b.Close()

	idA, _, err := a.Identify()
	if err != nil {
		fail("identify", err)
	}
	idB, addrsB, err := b.Identify()
	if err != nil {
		fail("identify", err)
	}
	ok("identify", fmt.Sprintf("%s %s %d", idA, idB, len(addrsB)))

	if err := a.Connect(idB, addrsB); err != nil {
		fail("connect", err)
	}
	ok("connect", idB.String())

	if want["streams"] {
		if err := b.NewStreamHandler([]string{"/go-upper/1.0.0"}, upperHandler); err != nil {
			fail("handler-b", err)
		}
		answer, err := roundTrip(a, idB, "/go-upper/1.0.0", "from a to b")
		if err != nil {
			fail("stream-a-to-b", err)
		}
		ok("stream-a-to-b", answer)
		if err := a.NewStreamHandler([]string{"/go-upper/1.0.0"}, upperHandler); err != nil {
			fail("handler-a", err)
		}
		answer, err = roundTrip(b, idA, "/go-upper/1.0.0", "from b to a")
		if err != nil {
			fail("stream-b-to-a", err)
		}
		ok("stream-b-to-a", answer)
	}

	if want["dht"] {
		found, err := a.FindPeer(idB)
		if err != nil {
			fail("dht-find-peer", err)
		}
		ok("dht-find-peer", fmt.Sprintf("%s %d", found.ID, len(found.Addrs)))
		key, err := a.GetPublicKey(idB)
		if err != nil {
			fail("dht-get-public-key", err)
		}
		fromKey, err := peer.IDFromPublicKey(key)
		if err != nil || fromKey != idB {
			fail("dht-get-public-key", fmt.Errorf("key of %s, want %s (%v)", fromKey, idB, err))
		}
		ok("dht-get-public-key", fromKey.String())
		hash, _ := mh.Sum([]byte("go-client provide "+idA.String()), mh.SHA2_256, -1)
		content := cid.NewCidV1(cid.Raw, hash)
		if err := a.Provide(content); err != nil {
			fail("dht-provide", err)
		}
		ok("dht-provide", content.String())
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		providers, err := b.FindProviders(ctx, content)
		if err != nil {
			fail("dht-find-providers", err)
		}
		var provider peer.ID
		for p := range providers {
			if p.ID == idA {
				provider = p.ID
			}
		}
		cancel()
		if provider != idA {
			fail("dht-find-providers", fmt.Errorf("%s not among the providers", idA))
		}
		ok("dht-find-providers", provider.String())
		ctx, cancel = context.WithTimeout(context.Background(), stepTimeout)
		closest, err := b.GetClosestPeers(ctx, []byte(idA))
		if err != nil {
			fail("dht-get-closest-peers", err)
		}
		n := 0
		for range closest {
			n++
		}
		cancel()
		if n == 0 {
			fail("dht-get-closest-peers", fmt.Errorf("no peers"))
		}
		ok("dht-get-closest-peers", fmt.Sprint(n))
	}

	if want["pubsub"] {
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		messages, err := b.Subscribe(ctx, "go-client-topic")
		if err != nil {
			fail("pubsub-subscribe", err)
		}
		ok("pubsub-subscribe", "go-client-topic")
		// publish until B sees a message: the mesh forms on the next heartbeat
		ticker := time.NewTicker(200 * time.Millisecond)
		defer ticker.Stop()
		for {
			select {
			case m, open := <-messages:
				if !open {
					fail("pubsub-receive", fmt.Errorf("subscription closed"))
				}
				from, _ := peer.IDFromBytes(m.GetFrom())
				ok("pubsub-receive", fmt.Sprintf("%s %s", string(m.GetData()), from))
				topics, err := b.GetTopics()
				if err != nil {
					fail("pubsub-get-topics", err)
				}
				ok("pubsub-get-topics", strings.Join(topics, ","))
				peers, err := a.ListPeers()
				if err != nil {
					fail("pubsub-list-peers", err)
				}
				ok("pubsub-list-peers", fmt.Sprint(len(peers)))
				return
			case <-ticker.C:
				if err := a.Publish("go-client-topic", []byte("hello from go")); err != nil {
					fail("pubsub-publish", err)
				}
			case <-ctx.Done():
				fail("pubsub-receive", ctx.Err())
			}
		}
	}
}
