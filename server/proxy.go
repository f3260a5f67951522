package server

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// This file is the client address behind a load balancer (--trusted-proxy).
//
// Behind a load balancer every connection comes from the balancer, so the
// session address check and the per-address limits (guest sessions, login
// failures) would see one client. When the peer of a connection is a
// trusted proxy, the client is read from X-Forwarded-For instead: its
// entries are walked from the right (the entry the nearest proxy appended)
// to the left, skipping trusted proxies; the first address that is not one
// is the client. Entries left of it were written by the client itself and
// are never believed. A request from a peer that is not trusted keeps its
// peer address whatever headers it sends, so a client cannot choose its
// address by sending X-Forwarded-For itself.
//
// Only X-Forwarded-For is read (what haproxy's "option forwardfor" and
// nginx's proxy_add_x_forwarded_for write); RFC 7239's Forwarded header
// is not.

// ParseTrustedProxies parses a comma-separated list of CIDR prefixes or
// single addresses (10.0.0.0/8, 127.0.0.1, ::1), as --trusted-proxy takes
// it; an empty string is no proxy.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: not a CIDR prefix (write 10.0.0.0/8 or 127.0.0.1)", f)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: not an IP address or CIDR prefix (write 10.0.0.0/8 or 127.0.0.1)", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// trusted reports whether a is one of the trusted proxies.
func trusted(proxies []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedClient returns the client address of a request whose peer is
// peer, by the rules above; ok is false when peer is not a trusted proxy
// or the headers name no client.
func forwardedClient(proxies []netip.Prefix, peer netip.Addr, header []string) (client netip.Addr, ok bool) {
	if !trusted(proxies, peer) {
		return netip.Addr{}, false
	}
	// Header lines in order, each a comma-separated list: the rightmost
	// entry of the last line is the nearest.
	var entries []string
	for _, line := range header {
		entries = append(entries, strings.Split(line, ",")...)
	}
	for i := len(entries) - 1; i >= 0; i-- {
		e := strings.TrimSpace(entries[i])
		a, err := parseForwardedAddr(e)
		if err != nil {
			// Not written by a proxy we trust (they write addresses):
			// nothing left of it can be believed either.
			break
		}
		client, ok = a.Unmap(), true
		if !trusted(proxies, a) {
			return client, true
		}
	}
	// Every entry is a trusted proxy (or there is none): the leftmost
	// trusted one read, if any, is as near to the client as can be known.
	return client, ok
}

// parseForwardedAddr parses one X-Forwarded-For entry: an address,
// possibly bracketed and with a port ([::1]:80, 10.0.0.1:4711).
func parseForwardedAddr(s string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a, nil
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr(), nil
	}
	return netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
}

// withClientAddress makes r.RemoteAddr the client's address when the
// request comes through a trusted proxy, before anything reads it: the
// session address check, the per-address limits and the request log all
// see the client.
func withClientAddress(proxies []netip.Prefix, next http.Handler) http.Handler {
	if len(proxies) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, port, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		peer, err := netip.ParseAddr(host)
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		if client, ok := forwardedClient(proxies, peer, r.Header.Values("X-Forwarded-For")); ok {
			r2 := new(http.Request)
			*r2 = *r
			r2.RemoteAddr = net.JoinHostPort(client.String(), port)
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}
