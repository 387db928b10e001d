package main

// Publish/subscribe with go-libp2p-pubsub, on with --pubsub gossipsub|floodsub.
// Defaults are go's own: StrictSign, message id = from || seqno, flood
// publishing (gossipsub).
//
// Commands: pubsub.subscribe, pubsub.unsubscribe, pubsub.publish and
// pubsub.peers (interop/README.md). Every message received on a subscribed
// topic, except our own, is reported as a pubsub:message event.

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
)

var (
	pubsubRouter string
	ps           *pubsub.PubSub
	psMu         sync.Mutex
	psTopics     = map[string]*pubsub.Topic{}
	psSubs       = map[string]*pubsub.Subscription{}
)

func init() {
	registerFlags(func(fs *flag.FlagSet) {
		fs.StringVar(&pubsubRouter, "pubsub", "", "run a pubsub router: gossipsub or floodsub")
	})
	registerSetup(func(n *Node) error {
		var err error
		switch pubsubRouter {
		case "":
			return nil
		case "gossipsub":
			ps, err = pubsub.NewGossipSub(n.ctx, n.host)
		case "floodsub":
			ps, err = pubsub.NewFloodSub(n.ctx, n.host)
		default:
			return fmt.Errorf("--pubsub must be gossipsub or floodsub, got %q", pubsubRouter)
		}
		return err
	})
	registerCloser(func(n *Node) error {
		psMu.Lock()
		defer psMu.Unlock()
		for _, s := range psSubs {
			s.Cancel()
		}
		return nil
	})
	registerCommand("pubsub.subscribe", 10*time.Second, cmdPubsubSubscribe)
	registerCommand("pubsub.unsubscribe", 10*time.Second, cmdPubsubUnsubscribe)
	registerCommand("pubsub.publish", 30*time.Second, cmdPubsubPublish)
	registerCommand("pubsub.peers", 5*time.Second, cmdPubsubPeers)
}

type topicArgs struct {
	Topic string `json:"topic"`
	Data  string `json:"data"`
}

func pubsubTopicArg(req *Request) (*topicArgs, error) {
	if ps == nil {
		return nil, errors.New("pubsub is not enabled (start with --pubsub)")
	}
	var a topicArgs
	if err := req.decode(&a); err != nil {
		return nil, err
	}
	if a.Topic == "" {
		return nil, errors.New(`missing "topic"`)
	}
	return &a, nil
}

// joinTopic returns the topic handle, joining once. Call with psMu held.
func joinTopic(name string) (*pubsub.Topic, error) {
	if t, ok := psTopics[name]; ok {
		return t, nil
	}
	t, err := ps.Join(name)
	if err != nil {
		return nil, err
	}
	psTopics[name] = t
	return t, nil
}

func cmdPubsubSubscribe(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	a, err := pubsubTopicArg(req)
	if err != nil {
		return nil, err
	}
	psMu.Lock()
	defer psMu.Unlock()
	if _, ok := psSubs[a.Topic]; ok {
		return map[string]any{}, nil
	}
	t, err := joinTopic(a.Topic)
	if err != nil {
		return nil, err
	}
	sub, err := t.Subscribe()
	if err != nil {
		return nil, err
	}
	psSubs[a.Topic] = sub
	self := n.host.ID()
	go func() {
		for {
			msg, err := sub.Next(n.ctx)
			if err != nil {
				return // cancelled or node stopping
			}
			if msg.ReceivedFrom == self {
				continue // our own publication
			}
			emitEvent("pubsub:message", map[string]any{
				"topic": msg.GetTopic(),
				"from":  msg.GetFrom().String(),
				"seqno": hex.EncodeToString(msg.GetSeqno()),
				"data":  base64.StdEncoding.EncodeToString(msg.GetData()),
			})
		}
	}()
	return map[string]any{}, nil
}

func cmdPubsubUnsubscribe(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	a, err := pubsubTopicArg(req)
	if err != nil {
		return nil, err
	}
	psMu.Lock()
	defer psMu.Unlock()
	if sub, ok := psSubs[a.Topic]; ok {
		sub.Cancel()
		delete(psSubs, a.Topic)
	}
	return map[string]any{}, nil
}

func cmdPubsubPublish(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	a, err := pubsubTopicArg(req)
	if err != nil {
		return nil, err
	}
	data, err := base64.StdEncoding.DecodeString(a.Data)
	if err != nil {
		return nil, fmt.Errorf(`"data" must be base64: %w`, err)
	}
	psMu.Lock()
	t, err := joinTopic(a.Topic)
	psMu.Unlock()
	if err != nil {
		return nil, err
	}
	if err := t.Publish(ctx, data); err != nil {
		log.Printf("publish on %s failed: %v", a.Topic, err)
		return nil, err
	}
	return map[string]any{}, nil
}

func cmdPubsubPeers(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	a, err := pubsubTopicArg(req)
	if err != nil {
		return nil, err
	}
	peers := []string{}
	for _, p := range ps.ListPeers(a.Topic) {
		peers = append(peers, p.String())
	}
	return map[string]any{"peers": peers}, nil
}
