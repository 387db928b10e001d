package main

// Bitswap (boxo's bitswap) and UnixFS files (boxo's importer and reader) for the interop tests.
// Off unless the peer is started with --bitswap. Blocks live in memory; the DHT (--dht) is the
// provider finder when it runs. Commands (interop/README.md):
//
//	bitswap.add {path, cidVersion}   -> {cid}          (kubo's settings: 256 KiB chunks, balanced
//	                                                   DAG; CIDv1 with raw leaves)
//	bitswap.get {cid, path}          -> {bytes, ms}    (fetches the file, writes it to path)
//	bitswap.ledger {peer}            -> {sent, received, exchanged}

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ipfs/boxo/bitswap"
	bsnet "github.com/ipfs/boxo/bitswap/network/bsnet"
	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	chunker "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs/importer/balanced"
	ihelper "github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	ufsio "github.com/ipfs/boxo/ipld/unixfs/io"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
	mh "github.com/multiformats/go-multihash"
)

var (
	bitswapOn bool
	bswap     *bitswap.Bitswap
	bsBlocks  blockstore.Blockstore
)

// dhtProviders finds providers through the DHT when it runs (looked up at call time: the DHT's
// setup hook may run after this file's), and finds none otherwise (connected peers only).
type dhtProviders struct{}

func (dhtProviders) FindProvidersAsync(ctx context.Context, c cid.Cid, n int) <-chan peer.AddrInfo {
	if kad != nil {
		return kad.FindProvidersAsync(ctx, c, n)
	}
	ch := make(chan peer.AddrInfo)
	close(ch)
	return ch
}

func init() {
	registerFlags(func(fs *flag.FlagSet) {
		fs.BoolVar(&bitswapOn, "bitswap", false, "run Bitswap with an in-memory block store")
	})
	registerSetup(func(n *Node) error {
		if !bitswapOn {
			return nil
		}
		bsBlocks = blockstore.NewBlockstore(dssync.MutexWrap(ds.NewMapDatastore()))
		var finder routing.ContentDiscovery = dhtProviders{}
		bswap = bitswap.New(n.ctx, bsnet.NewFromIpfsHost(n.host), finder, bsBlocks)
		return nil
	})
	registerCloser(func(n *Node) error {
		if bswap != nil {
			return bswap.Close()
		}
		return nil
	})
	registerCommand("bitswap.add", 300*time.Second, cmdBitswapAdd)
	registerCommand("bitswap.get", 600*time.Second, cmdBitswapGet)
	registerCommand("bitswap.ledger", 5*time.Second, cmdBitswapLedger)
}

func requireBitswap() error {
	if bswap == nil {
		return errors.New("bitswap is not running (start the peer with --bitswap)")
	}
	return nil
}

func cmdBitswapAdd(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	if err := requireBitswap(); err != nil {
		return nil, err
	}
	var args struct {
		Path       string `json:"path"`
		CidVersion int    `json:"cidVersion"`
	}
	if err := req.decode(&args); err != nil {
		return nil, err
	}
	f, err := os.Open(args.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	prefix, err := merkledag.PrefixForCidVersion(args.CidVersion)
	if err != nil {
		return nil, err
	}
	prefix.MhType = mh.SHA2_256
	dag := merkledag.NewDAGService(blockservice.New(bsBlocks, bswap))
	params := ihelper.DagBuilderParams{
		Dagserv:    dag,
		RawLeaves:  args.CidVersion == 1,
		Maxlinks:   ihelper.DefaultLinksPerBlock,
		CidBuilder: &prefix,
	}
	db, err := params.New(chunker.NewSizeSplitter(f, chunker.DefaultBlockSize))
	if err != nil {
		return nil, err
	}
	root, err := balanced.Layout(db)
	if err != nil {
		return nil, err
	}
	return map[string]any{"cid": root.Cid().String()}, nil
}

func cmdBitswapGet(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	if err := requireBitswap(); err != nil {
		return nil, err
	}
	var args struct {
		Cid  string `json:"cid"`
		Path string `json:"path"`
	}
	if err := req.decode(&args); err != nil {
		return nil, err
	}
	c, err := cid.Decode(args.Cid)
	if err != nil {
		return nil, err
	}
	started := time.Now()
	session := merkledag.NewSession(ctx, merkledag.NewDAGService(blockservice.New(bsBlocks, bswap)))
	root, err := session.Get(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", c, err)
	}
	reader, err := ufsio.NewDagReader(ctx, root, session)
	if err != nil {
		return nil, err
	}
	out, err := os.Create(args.Path)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	written, err := io.Copy(out, reader)
	if err != nil {
		return nil, err
	}
	return map[string]any{"bytes": written, "ms": float64(time.Since(started).Microseconds()) / 1000}, nil
}

func cmdBitswapLedger(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	if err := requireBitswap(); err != nil {
		return nil, err
	}
	var args struct {
		Peer string `json:"peer"`
	}
	if err := req.decode(&args); err != nil {
		return nil, err
	}
	id, err := peer.Decode(args.Peer)
	if err != nil {
		return nil, err
	}
	l := bswap.LedgerForPeer(id)
	if l == nil {
		return map[string]any{"sent": 0, "received": 0, "exchanged": 0}, nil
	}
	return map[string]any{"sent": l.Sent, "received": l.Recv, "exchanged": l.Exchanged}, nil
}
