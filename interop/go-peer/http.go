package main

// HTTP over libp2p with go-libp2p's p2p/http (libp2phttp) and the libp2p-PeerID
// HTTP authentication scheme (p2p/http/auth), for test/interop/http-go.test.ts.
//
// With --http the peer serves, over /http/1.1 streams:
//   /interop/echo/1  at /echo/   the request body back (x-go-method: the method)
//   /interop/hello/1 at /hello/  "hello from go"
// and a plain HTTP server on 127.0.0.1 (the "http-info" command gives its URL)
// behind ServerPeerIDAuth, answering the authenticated client's peer id.
//
// Commands:
//   {"cmd":"http-request","addr":"<multiaddr with /p2p>","path","method","body"}
//   {"cmd":"http-protocol","addr","protocol","path","method","body"}  (via the well-known document)
//   {"cmd":"http-auth","url"}  (plain HTTP, ClientPeerIDAuth with a fresh key)
//   {"cmd":"http-info"}

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	libp2phttp "github.com/libp2p/go-libp2p/p2p/http"
	httpauth "github.com/libp2p/go-libp2p/p2p/http/auth"
	ma "github.com/multiformats/go-multiaddr"
)

var (
	httpEnabled bool
	httpHost    *libp2phttp.Host
	httpAuthURL string
)

func init() {
	registerFlags(func(fs *flag.FlagSet) {
		fs.BoolVar(&httpEnabled, "http", false, "serve HTTP over libp2p (/http/1.1) and a peer-id-auth HTTP server")
	})
	registerSetup(setupHTTP)
	registerCommand("http-request", 60*time.Second, cmdHTTPRequest)
	registerCommand("http-protocol", 60*time.Second, cmdHTTPProtocol)
	registerCommand("http-auth", 60*time.Second, cmdHTTPAuth)
	registerCommand("http-info", 5*time.Second, func(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
		return map[string]any{"authUrl": httpAuthURL}, nil
	})
}

func setupHTTP(n *Node) error {
	if !httpEnabled {
		return nil
	}
	httpHost = &libp2phttp.Host{StreamHost: n.host}
	httpHost.SetHTTPHandlerAtPath("/interop/echo/1", "/echo/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("x-go-method", r.Method)
		w.Write(body)
	}))
	httpHost.SetHTTPHandlerAtPath("/interop/hello/1", "/hello/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("hello from go"))
	}))
	go func() {
		if err := httpHost.Serve(); err != nil && err != http.ErrServerClosed {
			log.Printf("http serve: %v", err)
		}
	}()
	registerCloser(func(n *Node) error { return httpHost.Close() })

	// plain HTTP with peer-id auth, server role
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	auth := &httpauth.ServerPeerIDAuth{
		PrivKey:         n.host.Peerstore().PrivKey(n.host.ID()),
		TokenTTL:        time.Hour,
		NoTLS:           true,
		ValidHostnameFn: func(string) bool { return true },
		Next: func(client peer.ID, w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(client.String()))
		},
	}
	server := &http.Server{Handler: auth}
	go server.Serve(listener)
	registerCloser(func(n *Node) error { return server.Close() })
	httpAuthURL = "http://" + listener.Addr().String()
	return nil
}

type httpArgs struct {
	Addr     string `json:"addr"`
	Path     string `json:"path"`
	Method   string `json:"method"`
	Body     string `json:"body"`
	Protocol string `json:"protocol"`
	URL      string `json:"url"`
}

func (a *httpArgs) request(ctx context.Context, url string) (*http.Request, error) {
	method := a.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if a.Body != "" {
		body = strings.NewReader(a.Body)
	}
	return http.NewRequestWithContext(ctx, method, url, body)
}

func responseJSON(resp *http.Response) (map[string]any, error) {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	headers := map[string]any{}
	for k := range resp.Header {
		headers[strings.ToLower(k)] = resp.Header.Get(k)
	}
	return map[string]any{"status": resp.StatusCode, "body": string(body), "headers": headers}, nil
}

func serverInfo(addr string) (peer.AddrInfo, error) {
	m, err := ma.NewMultiaddr(addr)
	if err != nil {
		return peer.AddrInfo{}, fmt.Errorf("bad multiaddr %q: %w", addr, err)
	}
	ai, err := peer.AddrInfoFromP2pAddr(m)
	if err != nil {
		return peer.AddrInfo{}, err
	}
	return *ai, nil
}

func cmdHTTPRequest(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	var a httpArgs
	if err := req.decode(&a); err != nil {
		return nil, err
	}
	if httpHost == nil {
		return nil, fmt.Errorf("start the peer with --http")
	}
	ai, err := serverInfo(a.Addr)
	if err != nil {
		return nil, err
	}
	rt, err := httpHost.NewConstrainedRoundTripper(ai)
	if err != nil {
		return nil, err
	}
	r, err := a.request(ctx, "http://"+strings.ToLower(ai.ID.String())+a.Path)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Transport: rt}).Do(r)
	if err != nil {
		return nil, err
	}
	return responseJSON(resp)
}

func cmdHTTPProtocol(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	var a httpArgs
	if err := req.decode(&a); err != nil {
		return nil, err
	}
	if httpHost == nil {
		return nil, fmt.Errorf("start the peer with --http")
	}
	ai, err := serverInfo(a.Addr)
	if err != nil {
		return nil, err
	}
	client, err := httpHost.NamespacedClient(protocol.ID(a.Protocol), ai)
	if err != nil {
		return nil, err
	}
	r, err := a.request(ctx, "/"+strings.TrimPrefix(a.Path, "/"))
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(r)
	if err != nil {
		return nil, err
	}
	return responseJSON(resp)
}

func cmdHTTPAuth(ctx context.Context, n *Node, req *Request) (map[string]any, error) {
	var a httpArgs
	if err := req.decode(&a); err != nil {
		return nil, err
	}
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, err
	}
	clientID, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return nil, err
	}
	auth := &httpauth.ClientPeerIDAuth{PrivKey: key, TokenTTL: time.Hour}
	r, err := a.request(ctx, a.URL)
	if err != nil {
		return nil, err
	}
	serverID, resp, err := auth.AuthenticatedDo(http.DefaultClient, r)
	if err != nil {
		return nil, err
	}
	out, err := responseJSON(resp)
	if err != nil {
		return nil, err
	}
	// a second request goes with the bearer token the server gave
	r2, err := a.request(ctx, a.URL)
	if err != nil {
		return nil, err
	}
	serverID2, resp2, err := auth.AuthenticatedDo(http.DefaultClient, r2)
	if err != nil {
		return nil, err
	}
	again, err := responseJSON(resp2)
	if err != nil {
		return nil, err
	}
	out["peer"] = serverID.String()
	out["clientPeer"] = clientID.String()
	out["bearerStatus"] = again["status"]
	out["bearerBody"] = again["body"]
	out["bearerPeer"] = serverID2.String()
	out["hasToken"] = auth.HasToken(r.Host)
	return out, nil
}
