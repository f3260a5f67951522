package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"

	"github.com/fourd/fourd"
)

// Client calls a fourd server's REST API. It keeps the session cookie, so
// that successive calls run in one session, as a 4D REST client does.
// A Client is safe for concurrent use.
type Client struct {
	base *url.URL
	http *http.Client
}

// NewClient returns a client of the server at baseURL (for example
// "http://127.0.0.1:8080"). httpClient may be nil; the client then uses its
// own, with a cookie jar.
func NewClient(baseURL string, httpClient *http.Client) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server URL %q: want http://host:port or https://host:port", baseURL)
	}
	if httpClient == nil {
		jar, _ := cookiejar.New(nil) // cannot fail without options
		httpClient = &http.Client{Jar: jar}
	}
	return &Client{base: u, http: httpClient}, nil
}

// URL returns the server's base URL.
func (c *Client) URL() string { return c.base.String() }

// SessionID returns the ID of the client's session, once a call has made
// one, or "".
func (c *Client) SessionID(appName string) string {
	if c.http.Jar == nil {
		return ""
	}
	for _, ck := range c.http.Jar.Cookies(c.base) {
		if ck.Name == "4DSID_"+appName {
			return ck.Value
		}
	}
	return ""
}

// OwnSessionID returns the ID of the client's session whatever the
// server's app name (the value of its one 4DSID_ cookie), or "".
func (c *Client) OwnSessionID() string {
	if c.http.Jar == nil {
		return ""
	}
	for _, ck := range c.http.Jar.Cookies(c.base) {
		if strings.HasPrefix(ck.Name, "4DSID_") {
			return ck.Value
		}
	}
	return ""
}

// Activity calls GET /rest/$activity: Process activity on the server. It
// returns nil, and no error, for an unknown session, as the command returns
// null.
func (c *Client) Activity(ctx context.Context, sessionID string, opts fourd.ActivityOptions) (*fourd.Activity, error) {
	return c.ActivityMatch(ctx, sessionID, opts, "")
}

// ActivityMatch is Activity with fourd's $match filter (package
// activityfilter): the processes it selects, or the sessions with
// SessionsOnly. An empty match selects everything.
func (c *Client) ActivityMatch(ctx context.Context, sessionID string, opts fourd.ActivityOptions, match string) (*fourd.Activity, error) {
	q := url.Values{}
	if match != "" {
		q.Set("$match", match)
	}
	if sessionID != "" {
		q.Set("sessionID", sessionID)
	}
	if opts != fourd.ProcessesAndSessions {
		q.Set("options", strconv.Itoa(int(opts)))
	}
	body, err := c.get(ctx, "/rest/$activity", q)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
		return nil, nil
	}
	var a fourd.Activity
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, fmt.Errorf("decode $activity: %w", err)
	}
	return &a, nil
}

// Info calls GET /rest/$info.
func (c *Client) Info(ctx context.Context) (*Info, error) {
	body, err := c.get(ctx, "/rest/$info", nil)
	if err != nil {
		return nil, err
	}
	var info Info
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, fmt.Errorf("decode $info: %w", err)
	}
	return &info, nil
}

// BuildIndex calls POST /rest/$index: the server builds the index of
// dataClass.attribute and answers when it is done.
func (c *Client) BuildIndex(ctx context.Context, dataClass, attribute string) error {
	body, _ := json.Marshal(map[string]string{"dataClass": dataClass, "attribute": attribute})
	_, err := c.post(ctx, "/rest/$index", body)
	return err
}

// Flush calls POST /rest/$flush: the server writes its cache to disk and
// answers when it is done.
func (c *Client) Flush(ctx context.Context) error {
	_, err := c.post(ctx, "/rest/$flush", nil)
	return err
}

func (c *Client) post(ctx context.Context, path string, body []byte) ([]byte, error) {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	return c.do(req)
}

// Info is $info as the client reads it.
type Info struct {
	CacheSize      int64 `json:"cacheSize"`
	UsedCache      int64 `json:"usedCache"`
	EntitySetCount int   `json:"entitySetCount"`
	EntitySet      []struct {
		ID            string `json:"id"`
		DataClass     string `json:"dataClass"`
		SelectionSize int    `json:"selectionSize"`
		Sorted        bool   `json:"sorted"`
		Refreshed     string `json:"refreshed"`
		Expires       string `json:"expires"`
		SessionID     string `json:"sessionID"`
		Bytes         int    `json:"bytes"`
	} `json:"entitySet"`
	ProgressInfo []fourd.ProgressInfo `json:"ProgressInfo"`
	SessionInfo  []struct {
		SessionID  string `json:"sessionID"`
		UserID     string `json:"userID"`
		UserName   string `json:"userName"`
		LifeTime   int64  `json:"lifeTime"`
		Expiration string `json:"expiration"`
	} `json:"sessionInfo"`
	Privileges struct {
		Privileges []struct {
			Privilege string `json:"privilege"`
		} `json:"privileges"`
	} `json:"privileges"`
}

// get sends a GET and returns the body of a 2xx answer; any other answer
// becomes a *fourd.Error read from the __ERROR envelope.
func (c *Client) get(ctx context.Context, path string, q url.Values) ([]byte, error) {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	return c.do(req)
}

func (c *Client) do(req *http.Request) ([]byte, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", req.URL.Path, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return body, nil
	}
	return nil, decodeError(resp.StatusCode, body)
}

// decodeError turns an error answer into a *fourd.Error.
func decodeError(status int, body []byte) error {
	e := &fourd.Error{Code: codeForStatus(status), Component: fourd.ComponentServer}
	var env ErrorEnvelope
	if json.Unmarshal(body, &env) == nil && len(env.Errors) > 0 {
		e.Message = env.Errors[0].Message
		e.ErrCode = env.Errors[0].ErrCode
		e.Component = env.Errors[0].ComponentSignature
	} else {
		e.Message = fmt.Sprintf("HTTP %d: %s", status, strings.TrimSpace(string(body)))
	}
	return e
}

// Login calls POST /rest/$directory/login with the username-4D and
// password-4D headers: the client's session is logged in (and gets a new
// ID). Wrong credentials give a *fourd.Error with code EUNAUTHORIZED.
func (c *Client) Login(ctx context.Context, name, password string) error {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + "/rest/$directory/login"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("username-4D", name)
	req.Header.Set("password-4D", password)
	refused := fourd.Errorf(fourd.EUNAUTHORIZED, fourd.ErrCodeBadCredentials, "login as %q refused: wrong user name or password", name)
	body, err := c.do(req)
	if err != nil {
		var fe *fourd.Error
		if errors.As(err, &fe) && fe.Code == fourd.EUNAUTHORIZED && fe.ErrCode == 0 {
			return refused // {"result":false}, not an envelope
		}
		return err
	}
	var out struct {
		Result bool `json:"result"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return fmt.Errorf("decode $directory/login: %w", err)
	}
	if !out.Result {
		return refused
	}
	return nil
}

// AbortProcess calls POST /rest/$process/abort: the server aborts the
// process with that unique ID (4D's ABORT PROCESS BY ID).
func (c *Client) AbortProcess(ctx context.Context, id int64) error {
	body, _ := json.Marshal(map[string]int64{"ID": id})
	_, err := c.post(ctx, "/rest/$process/abort", body)
	return err
}

// PauseProcess calls POST /rest/$process/pause: the server pauses the
// process with that number (4D's PAUSE PROCESS).
func (c *Client) PauseProcess(ctx context.Context, number int) error {
	body, _ := json.Marshal(map[string]int{"number": number})
	_, err := c.post(ctx, "/rest/$process/pause", body)
	return err
}

// ResumeProcess calls POST /rest/$process/resume: the server resumes the
// process with that number (4D's RESUME PROCESS).
func (c *Client) ResumeProcess(ctx context.Context, number int) error {
	body, _ := json.Marshal(map[string]int{"number": number})
	_, err := c.post(ctx, "/rest/$process/resume", body)
	return err
}

// PauseProcessByID calls POST /rest/$process/pause with the process's
// unique ID.
func (c *Client) PauseProcessByID(ctx context.Context, id int64) error {
	body, _ := json.Marshal(map[string]int64{"ID": id})
	_, err := c.post(ctx, "/rest/$process/pause", body)
	return err
}

// ResumeProcessByID calls POST /rest/$process/resume with the process's
// unique ID.
func (c *Client) ResumeProcessByID(ctx context.Context, id int64) error {
	body, _ := json.Marshal(map[string]int64{"ID": id})
	_, err := c.post(ctx, "/rest/$process/resume", body)
	return err
}

// Logout calls POST /rest/$directory/logout: the server ends the client's
// session (its processes, its entity sets). A client that made no call yet
// has no session, and Logout does nothing.
func (c *Client) Logout(ctx context.Context) error {
	if c.OwnSessionID() == "" {
		return nil
	}
	_, err := c.post(ctx, "/rest/$directory/logout", nil)
	return err
}

// DropSession calls POST /rest/$session/drop: the server ends the session,
// aborts its processes and releases its entity sets.
func (c *Client) DropSession(ctx context.Context, sessionID string) error {
	body, _ := json.Marshal(map[string]string{"sessionID": sessionID})
	_, err := c.post(ctx, "/rest/$session/drop", body)
	return err
}

// ReleaseEntitySet calls POST /rest/$entityset/$release with one ID. An
// unknown set gives a *fourd.Error with code ENOTFOUND.
func (c *Client) ReleaseEntitySet(ctx context.Context, id string) error {
	body, _ := json.Marshal([]string{id})
	out, err := c.post(ctx, "/rest/$entityset/$release", body)
	if err != nil {
		return err
	}
	var res struct {
		NotFound []string `json:"notFound"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return fmt.Errorf("decode $entityset/$release: %w", err)
	}
	if len(res.NotFound) > 0 {
		return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeEntitySetNotFound, "no entity set %q", id)
	}
	return nil
}

// AbortMatching calls POST /rest/$process/abort?$match=<filter>: it aborts
// every abortable process the filter selects and returns their IDs.
func (c *Client) AbortMatching(ctx context.Context, match string) ([]int64, error) {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + "/rest/$process/abort"
	u.RawQuery = url.Values{"$match": {match}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	body, err := c.do(req)
	if err != nil {
		return nil, err
	}
	var out struct {
		Aborted []int64 `json:"aborted"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("decode $process/abort: %w", err)
	}
	return out.Aborted, nil
}
