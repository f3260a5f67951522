package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
	"github.com/fourd/fourd/rest"
)

// EntitySetStats is what the collector reads of the entity-set cache:
// *inmem.EntitySetStore.
type EntitySetStats interface {
	Stats() inmem.EntitySetStats
}

// Sources are the parts of a server the collector reads at scrape time.
// A nil source is left out of the scrape.
type Sources struct {
	Processes  fourd.ProcessTable
	Sessions   fourd.SessionStore
	EntitySets EntitySetStats
	Progress   *fourd.Progress
}

// Metrics is a server's Prometheus registry: the snapshot collector over
// Sources, the event counters (it is the REST handler's rest.Observer),
// and the Go runtime and OS process collectors. It is safe for concurrent
// use.
type Metrics struct {
	// Registry holds every metric; Handler serves it.
	Registry *prometheus.Registry

	requests *prometheus.CounterVec
	duration map[string]prometheus.Observer // by resource kind, made once
	other    prometheus.Observer            // kinds not in duration (none today)
	logins   *prometheus.CounterVec
	refusals *prometheus.CounterVec
}

var _ rest.Observer = (*Metrics)(nil)

// Kinds are the values of the "kind" label: what rest.ResourceKind answers.
var Kinds = []string{"$activity", "$info", "$catalog", "$entityset", "$singleton", "$directory", "$process",
	"$session", "$index", "$flush", "$lock", "dataclass", "other"}

// New returns the metrics of a server over src.
func New(src Sources) *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fourd_rest_requests_total",
		Help: "REST requests answered, by resource kind and HTTP status (499: the client went away before the answer).",
	}, []string{"kind", "status"})
	hist := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "fourd_rest_request_duration_seconds",
		Help:    "Time from a REST request's arrival to the end of its answer, by resource kind.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"kind"})
	m.duration = make(map[string]prometheus.Observer, len(Kinds))
	for _, k := range Kinds {
		m.duration[k] = hist.WithLabelValues(k)
	}
	m.other = m.duration["other"]
	m.logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fourd_logins_total",
		Help: "Login attempts, by outcome: succeeded, failed (wrong credentials), throttled (refused by the failed-login quotas).",
	}, []string{"outcome"})
	for _, o := range []rest.LoginOutcome{rest.LoginSucceeded, rest.LoginFailed, rest.LoginThrottled} {
		m.logins.WithLabelValues(string(o))
	}
	m.refusals = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fourd_quota_refusals_total",
		Help: "Requests refused by a quota, by quota: sessions (402), entity_sets (429), logins (429).",
	}, []string{"quota"})
	for _, q := range []string{rest.QuotaSessions, rest.QuotaEntitySets, rest.QuotaLogins} {
		m.refusals.WithLabelValues(q)
	}
	m.Registry.MustRegister(m.requests, hist, m.logins, m.refusals,
		newCollector(src),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in Prometheus's text format (or
// OpenMetrics, when the scraper asks for it).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// Request implements rest.Observer.
func (m *Metrics) Request(kind string, status int, d time.Duration) {
	m.requests.WithLabelValues(kind, statusLabel(status)).Inc()
	h, ok := m.duration[kind]
	if !ok {
		h = m.other
	}
	h.Observe(d.Seconds())
}

// Login implements rest.Observer.
func (m *Metrics) Login(o rest.LoginOutcome) { m.logins.WithLabelValues(string(o)).Inc() }

// Refused implements rest.Observer.
func (m *Metrics) Refused(quota string) { m.refusals.WithLabelValues(quota).Inc() }

// statusLabel is strconv.Itoa without an allocation for the usual statuses.
func statusLabel(code int) string {
	switch code {
	case 200:
		return "200"
	case 201:
		return "201"
	case 400:
		return "400"
	case 401:
		return "401"
	case 402:
		return "402"
	case 404:
		return "404"
	case 405:
		return "405"
	case 409:
		return "409"
	case 429:
		return "429"
	case 499:
		return "499"
	case 500:
		return "500"
	case 503:
		return "503"
	}
	return strconv.Itoa(code)
}

// collector reads the snapshot metrics from their sources, once per scrape.
type collector struct {
	src Sources

	processes, sessions                        *prometheus.Desc
	sets, cacheSize, cacheUsed                 *prometheus.Desc
	setPuts, setHits, setMisses                *prometheus.Desc
	setEvictions, setExpirations, setReleases  *prometheus.Desc
	setRefused                                 *prometheus.Desc
	progressRunning, progressDone, progressTot *prometheus.Desc
}

func newCollector(src Sources) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &collector{
		src:             src,
		processes:       d("fourd_processes", "Live processes, by 4D process type and state (as Process activity shows them).", "type", "state"),
		sessions:        d("fourd_sessions", "Live sessions, by 4D session type and user kind (guest or user).", "type", "user_kind"),
		sets:            d("fourd_entity_sets", "Entity sets held in the cache, expired ones not yet swept included ($info entitySetCount)."),
		cacheSize:       d("fourd_cache_size_bytes", "Size of the entity-set cache ($info cacheSize)."),
		cacheUsed:       d("fourd_cache_used_bytes", "Bytes the entity sets hold in the cache ($info usedCache)."),
		setPuts:         d("fourd_entity_set_puts_total", "Entity sets stored, replacements included."),
		setHits:         d("fourd_entity_set_hits_total", "Entity-set look-ups that found a live set."),
		setMisses:       d("fourd_entity_set_misses_total", "Entity-set look-ups that found no live set."),
		setEvictions:    d("fourd_entity_set_evictions_total", "Entity sets evicted (least recently used) to make room in the cache."),
		setExpirations:  d("fourd_entity_set_expirations_total", "Entity sets removed because their timeout passed."),
		setReleases:     d("fourd_entity_set_releases_total", "Entity sets released by a client or with their session."),
		setRefused:      d("fourd_entity_set_refused_total", "Entity sets refused as larger than the whole cache."),
		progressRunning: d("fourd_progress_indicators", "Running progress indicators ($info ProgressInfo), by job.", "job"),
		progressDone:    d("fourd_progress_done", "Units done by the running progress indicators of a job, summed.", "job"),
		progressTot:     d("fourd_progress_total", "Units to do of the running progress indicators of a job, summed.", "job"),
	}
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.processes, c.sessions, c.sets, c.cacheSize, c.cacheUsed,
		c.setPuts, c.setHits, c.setMisses, c.setEvictions, c.setExpirations, c.setReleases, c.setRefused,
		c.progressRunning, c.progressDone, c.progressTot} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: one snapshot of each source.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	if c.src.Processes != nil {
		type key struct {
			t fourd.ProcessType
			s fourd.ProcessState
		}
		counts := map[key]int{}
		for _, p := range c.src.Processes.Processes("") {
			counts[key{p.Type, p.State}]++
		}
		for k, n := range counts {
			ch <- prometheus.MustNewConstMetric(c.processes, prometheus.GaugeValue, float64(n), k.t.String(), k.s.String())
		}
	}
	if c.src.Sessions != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		list, err := c.src.Sessions.Sessions(ctx)
		cancel()
		if err != nil {
			ch <- prometheus.NewInvalidMetric(c.sessions, err)
		} else {
			type key struct {
				t    fourd.SessionType
				user string
			}
			counts := map[key]int{}
			for _, s := range list {
				kind := "user"
				if s.UserID == "" || s.UserID == fourd.GuestUserID {
					kind = "guest"
				}
				counts[key{s.Type, kind}]++
			}
			for k, n := range counts {
				ch <- prometheus.MustNewConstMetric(c.sessions, prometheus.GaugeValue, float64(n), string(k.t), k.user)
			}
		}
	}
	if c.src.EntitySets != nil {
		st := c.src.EntitySets.Stats()
		gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
		counter := func(d *prometheus.Desc, v uint64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
		}
		gauge(c.sets, float64(st.Sets))
		gauge(c.cacheSize, float64(st.Size))
		gauge(c.cacheUsed, float64(st.Used))
		counter(c.setPuts, st.Puts)
		counter(c.setHits, st.Hits)
		counter(c.setMisses, st.Misses)
		counter(c.setEvictions, st.Evictions)
		counter(c.setExpirations, st.Expirations)
		counter(c.setReleases, st.Releases)
		counter(c.setRefused, st.Refused)
	}
	if c.src.Progress != nil {
		type sums struct{ n, done, total int64 }
		jobs := map[string]*sums{}
		for _, pi := range c.src.Progress.Snapshot() {
			job := pi.UserInfo
			switch job {
			case fourd.ProgressIndex, fourd.ProgressFlush, fourd.ProgressImport:
			default:
				job = "other"
			}
			s := jobs[job]
			if s == nil {
				s = &sums{}
				jobs[job] = s
			}
			s.n++
			s.done += pi.Done
			s.total += pi.Total
		}
		// The three known jobs are always listed, at 0 when idle, so that
		// a dashboard sees them before the first one runs.
		for _, job := range []string{fourd.ProgressIndex, fourd.ProgressFlush, fourd.ProgressImport, "other"} {
			s := jobs[job]
			if s == nil {
				if job == "other" {
					continue
				}
				s = &sums{}
			}
			ch <- prometheus.MustNewConstMetric(c.progressRunning, prometheus.GaugeValue, float64(s.n), job)
			ch <- prometheus.MustNewConstMetric(c.progressDone, prometheus.GaugeValue, float64(s.done), job)
			ch <- prometheus.MustNewConstMetric(c.progressTot, prometheus.GaugeValue, float64(s.total), job)
		}
	}
}
