package storetest

import (
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy is a TCP proxy on loopback between a store's client and its server,
// for fault tests: a test points the client at Addr and switches faults on
// and off while real bytes flow to a real server. It is safe for concurrent
// use and closes itself (and every connection) when the test ends.
//
// The faults model what a network or a server can do:
//   - Pause holds every byte in both directions, connections stay open (a
//     server stopped with SIGSTOP, a partition without resets);
//   - Slow delays every chunk in both directions;
//   - Cut closes every connection and closes each new one at once (a server
//     that is down);
//   - DropResponses forwards what the client sends and swallows what the
//     server answers (a write that lands and whose answer is lost).
//
// Heal ends them all. A connection that lost bytes to DropResponses is closed
// by Heal, as a real network would reset a stream with a hole in it.
type Proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	cond   *sync.Cond
	paused bool
	cut    bool
	drop   bool
	delay  time.Duration
	closed bool
	pairs  map[*proxyPair]struct{}
	wg     sync.WaitGroup
}

// proxyPair is one proxied connection.
type proxyPair struct {
	client, server net.Conn
	tainted        bool // bytes were dropped (guarded by Proxy.mu)
}

func (c *proxyPair) close() {
	_ = c.client.Close()
	_ = c.server.Close()
}

// NewProxy starts a proxy on 127.0.0.1 (a free port) that forwards to target
// (host:port). It is closed with t.Cleanup.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("storetest: proxy listen: %v", err)
	}
	p := &Proxy{ln: ln, target: target, pairs: map[*proxyPair]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// Addr is the host:port clients connect to.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Pause holds every byte in both directions until Resume or Heal.
func (p *Proxy) Pause() { p.set(func() { p.paused = true }) }

// Resume releases the bytes Pause held.
func (p *Proxy) Resume() { p.set(func() { p.paused = false }) }

// Slow delays every chunk by d in both directions (0: no delay).
func (p *Proxy) Slow(d time.Duration) { p.set(func() { p.delay = d }) }

// DropResponses forwards what clients send and discards what the server
// answers, until Heal.
func (p *Proxy) DropResponses() { p.set(func() { p.drop = true }) }

// Cut closes every connection and, until Heal, every new one at once.
func (p *Proxy) Cut() {
	p.set(func() {
		p.cut = true
		for c := range p.pairs {
			c.close()
			delete(p.pairs, c)
		}
	})
}

// Heal ends every fault: held bytes flow again, and connections that lost
// bytes are closed.
func (p *Proxy) Heal() {
	p.set(func() {
		p.paused, p.cut, p.drop, p.delay = false, false, false, 0
		for c := range p.pairs {
			if c.tainted {
				c.close()
				delete(p.pairs, c)
			}
		}
	})
}

func (p *Proxy) set(f func()) {
	p.mu.Lock()
	f()
	p.mu.Unlock()
	p.cond.Broadcast()
}

func (p *Proxy) close() {
	p.set(func() {
		p.closed = true
		for c := range p.pairs {
			c.close()
			delete(p.pairs, c)
		}
	})
	_ = p.ln.Close()
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		conn, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refuse := p.cut || p.closed
		p.mu.Unlock()
		if refuse {
			_ = conn.Close()
			continue
		}
		server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			_ = conn.Close()
			continue
		}
		c := &proxyPair{client: conn, server: server}
		p.mu.Lock()
		if p.cut || p.closed {
			p.mu.Unlock()
			c.close()
			continue
		}
		p.pairs[c] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, c.server, c.client, false)
		go p.pipe(c, c.client, c.server, true)
	}
}

// pipe copies src to dst chunk by chunk, applying the faults in force when
// each chunk arrives; toClient says the chunk is an answer of the server.
func (p *Proxy) pipe(c *proxyPair, dst, src net.Conn, toClient bool) {
	defer p.wg.Done()
	defer func() {
		p.mu.Lock()
		delete(p.pairs, c)
		p.mu.Unlock()
		c.close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			forward, ok := p.gate(c, toClient)
			if !ok {
				return
			}
			if forward {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// gate waits while the proxy is paused and sleeps the delay; it reports
// whether to forward the chunk, and ok false when the connection must end.
func (p *Proxy) gate(c *proxyPair, toClient bool) (forward, ok bool) {
	p.mu.Lock()
	for p.paused && !p.cut && !p.closed {
		p.cond.Wait()
	}
	delay := p.delay
	p.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, live := p.pairs[c]; !live || p.cut || p.closed {
		return false, false
	}
	if toClient && p.drop {
		c.tainted = true
		return false, true
	}
	return true, true
}
