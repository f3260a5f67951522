package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/rest"
)

// connOptions are the connection flags that every subcommand talking to a
// running server takes, the same everywhere: --server, --timeout, --user
// and --password-stdin.
type connOptions struct {
	cmd     string
	server  *string
	timeout *time.Duration
	login   *loginOptions
}

// connFlags adds the connection flags to fs; timeout is the command's
// default --timeout (0: none, for work that may run long).
func connFlags(fs *flag.FlagSet, timeout time.Duration) *connOptions {
	return &connOptions{
		cmd:     fs.Name(),
		server:  fs.String("server", env("FOURD_SERVER", "http://"+defaultServerAddr), "the server's base URL, http://host:port (env FOURD_SERVER)"),
		timeout: fs.Duration("timeout", timeout, "how long the whole call may take; 0 waits as long as it takes"),
		login:   loginFlags(fs),
	}
}

// conn is a client of a running server for one command. Its session is
// the command's own: close ends it (a logout), so that no call of the CLI
// leaves a session behind for the next one to see.
type conn struct {
	*rest.Client
	ctx       context.Context // the command's, bounded by --timeout
	cancel    context.CancelFunc
	transport *http.Transport
}

// connect checks the connection flags, makes a client, bounds the command
// by --timeout and logs in as the login flags say. The caller must call
// close. The errors are ready for main.
func (o *connOptions) connect(ctx context.Context) (*conn, error) {
	if *o.timeout < 0 {
		return nil, &exitError{code: 2, msg: fmt.Sprintf("%s: --timeout %s: give 0 (no limit) or a positive duration", o.cmd, *o.timeout)}
	}
	if err := checkServerURL(*o.server); err != nil {
		return nil, &exitError{code: 2, msg: fmt.Sprintf("%s: %v", o.cmd, err)}
	}
	// A transport of the command's own: its connections end with it (close),
	// never shared with another command run in the same program (tests).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	jar, _ := cookiejar.New(nil) // cannot fail without options
	client, err := rest.NewClient(*o.server, &http.Client{Transport: tr, Jar: jar})
	if err != nil {
		return nil, &exitError{code: 2, msg: fmt.Sprintf("%s: %v", o.cmd, err)}
	}
	var cancel context.CancelFunc
	if *o.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, *o.timeout)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	c := &conn{Client: client, ctx: ctx, cancel: cancel, transport: tr}
	if err := o.login.login(ctx, client); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// checkServerURL refuses a --server that cannot be a fourd server's base
// URL: another scheme, no host, or a path (http://host:8080/rest would
// make every call ask for /rest/rest/...).
func checkServerURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--server %q: give the server's base URL, as in http://127.0.0.1:8080", s)
	}
	if strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("--server %q: give the server's base URL without a path, as in %s://%s", s, u.Scheme, u.Host)
	}
	return nil
}

// close logs the command's session out, which ends it on the server, and
// releases the command's context. The logout has a deadline of its own:
// the command's may be spent.
func (c *conn) close() {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 2*time.Second)
	defer cancel()
	_ = c.Logout(ctx)
	c.cancel()
	c.transport.CloseIdleConnections()
}

// fail says plainly what went wrong in a call to the server.
func (c *conn) fail(err error) error { return describeCallError(c.URL(), err) }

const defaultServerAddr = "127.0.0.1:8080"

// describeCallError says plainly what went wrong reaching the server,
// and that it is not a fourd server when its answers are not fourd's.
func describeCallError(serverURL string, err error) error {
	var fe *fourd.Error
	var ue *url.Error
	switch {
	case errors.As(err, &fe) && fe.ErrCode == 0 && strings.HasPrefix(fe.Message, "HTTP "):
		// No __ERROR envelope: not an answer of fourd's.
		return &exitError{code: 1, msg: fmt.Sprintf("%s does not answer as a fourd server (%s); check --server", serverURL, firstLine(fe.Message, 80))}
	case errors.As(err, &fe):
		return &exitError{code: 1, msg: fmt.Sprintf("%s answered: %s", serverURL, fe.Message)}
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return &exitError{code: 1, msg: fmt.Sprintf("%s did not answer in time (--timeout)", serverURL)}
	case errors.As(err, &ue):
		return &exitError{code: 1, msg: fmt.Sprintf("cannot reach the server at %s: %v (is 'fourd serve' running there?)", serverURL, rootCause(ue.Err))}
	case isDecodeError(err):
		return &exitError{code: 1, msg: fmt.Sprintf("%s does not answer as a fourd server (its answer is not fourd's JSON); check --server", serverURL)}
	}
	return &exitError{code: 1, msg: err.Error()}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isDecodeError(err error) bool {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	return errors.As(err, &se) || errors.As(err, &te)
}

func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
