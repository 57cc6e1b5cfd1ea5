package bench

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// load is what producers send: the same POST, over and over. With Rate 0
// it is a closed loop of Producers, each sending its next request as soon
// as the last was answered (producers that wait for their 202); with a
// Rate it is that many requests a second, open loop.
//
// With a Gate, each request first takes a token from it, and the sink
// returns one when an event arrives: a closed loop over delivery, not just
// acceptance, which keeps as many events in flight as the gate holds
// tokens and so never builds a backlog that outlives the run.
type load struct {
	URL       string
	Header    http.Header
	Body      []byte
	Producers int
	Rate      int
	Gate      chan struct{}
	// Next, when set, adjusts a copy of the request for each send (a fresh
	// body, a signature).
	Next func(*vegeta.Target)
	// MaxBody is how much of each answer is read; 0 means 4 KiB, enough
	// for any answer but a batch's.
	MaxBody int
}

// errGateClosed ends the requests still waiting for a token when a run's
// time is up; they were never sent.
var errGateClosed = errors.New("run over while waiting for a delivery token")

// loadResult is one measured run of a load.
type loadResult struct {
	from, to time.Time
	metrics  vegeta.Metrics
	// accepted maps the ID in each 2xx answer's body to when that answer
	// arrived: the moment the producer knew its event was accepted.
	accepted map[string]time.Time
	// sent maps the same IDs to when their request was sent. A delivery
	// can reach the endpoint before the producer has read its 202 (the
	// dispatcher's first attempt goes out as soon as Pub/Sub pushes, while
	// ingest still records the event), so end-to-end latency is measured
	// from here.
	sent       map[string]time.Time
	ok, failed int
	// events counts the events the 2xx answers accepted: one per answer
	// of POST /v1/events, a batch's "accepted"; refused, the events a
	// batch's 200 refused.
	events, refused int
	// firstError is one failed request's error or status, for the report.
	firstError string
}

// run sends the load for d and collects the results.
func (l load) run(ctx context.Context, d time.Duration) (loadResult, error) {
	workers := uint64(max(l.Producers, 1))
	atk := vegeta.NewAttacker(
		vegeta.Workers(workers),
		vegeta.MaxWorkers(workers),
		vegeta.MaxBody(int64(cmp.Or(l.MaxBody, 4096))),
		vegeta.Client(&http.Client{
			Timeout: 30 * time.Second,
			Transport: stampSent{&http.Transport{
				DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
				MaxIdleConnsPerHost: int(workers),
			}},
		}),
	)
	target := vegeta.Target{Method: http.MethodPost, URL: l.URL, Header: l.Header, Body: l.Body}
	targeter := vegeta.NewStaticTargeter(target)
	runCtx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if l.Gate != nil || l.Next != nil {
		targeter = func(t *vegeta.Target) error {
			if l.Gate != nil {
				select {
				case <-l.Gate:
				case <-runCtx.Done():
					return errGateClosed
				}
			}
			*t = target
			if l.Next != nil {
				t.Header = l.Header.Clone()
				l.Next(t)
			}
			return nil
		}
	}
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()

	res := loadResult{from: time.Now(), accepted: map[string]time.Time{}, sent: map[string]time.Time{}}
	for r := range atk.Attack(targeter, vegeta.Rate{Freq: l.Rate, Per: time.Second}, d, "") {
		if r.Error == errGateClosed.Error() {
			continue
		}
		res.metrics.Add(r)
		if r.Code/100 != 2 {
			res.failed++
			if res.firstError == "" {
				res.firstError = fmt.Sprintf("HTTP %d %s %s", r.Code, r.Error, r.Body)
			}
			continue
		}
		res.ok++
		var v struct {
			ID       string `json:"id"`
			Accepted *int   `json:"accepted"`
			Refused  int    `json:"refused"`
		}
		err := json.Unmarshal(r.Body, &v)
		switch {
		case err == nil && v.Accepted != nil:
			res.events += *v.Accepted
			res.refused += v.Refused
		default:
			res.events++
			if err == nil && v.ID != "" {
				res.sent[v.ID], res.accepted[v.ID] = stampedTimes(r)
			}
		}
	}
	res.to = time.Now()
	res.metrics.Close()
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if res.ok == 0 {
		return res, fmt.Errorf("POST %s: no request succeeded (%d sent): %s", l.URL, res.failed, res.firstError)
	}
	return res, nil
}

// ids returns the accepted event IDs.
func (r loadResult) ids() []string {
	out := make([]string, 0, len(r.accepted))
	for id := range r.accepted {
		out = append(out, id)
	}
	return out
}

// sentHeader and answeredHeader are the answer headers stampSent puts
// each request's send time and its answer's arrival in, as Unix
// nanoseconds: the bench's own, never sent on the wire.
const (
	sentHeader     = "X-Bench-Sent"
	answeredHeader = "X-Bench-Answered"
)

// stampSent is the load's transport: it notes on each answer when its
// request was handed to the connection, and when the answer came.
// vegeta's own timestamp of a result is taken before the targeter runs,
// so behind a Gate it would include the wait for a token (the previous
// event's trip), not only this event's. The answer's time is the send's
// wall clock plus the round trip on the monotonic clock: a result's end
// by vegeta's timestamp, against a send time on the wall clock, came out
// before the send when this machine's wall clock was adjusted during the
// wait (TestGatedLoadTimesTheSendNotTheWait saw -0.4 ms).
type stampSent struct{ next http.RoundTripper }

func (s stampSent) RoundTrip(r *http.Request) (*http.Response, error) {
	at := time.Now()
	resp, err := s.next.RoundTrip(r)
	if resp != nil {
		resp.Header.Set(sentHeader, strconv.FormatInt(at.UnixNano(), 10))
		resp.Header.Set(answeredHeader, strconv.FormatInt(at.UnixNano()+int64(time.Since(at)), 10))
	}
	return resp, err
}

// stampedTimes is when r's request was sent and its answer came, by
// stampSent; by vegeta's timestamp and latency when the answer lacks
// them.
func stampedTimes(r *vegeta.Result) (sent, answered time.Time) {
	s, err1 := strconv.ParseInt(r.Headers.Get(sentHeader), 10, 64)
	a, err2 := strconv.ParseInt(r.Headers.Get(answeredHeader), 10, 64)
	if err1 != nil || err2 != nil {
		return r.Timestamp, r.End()
	}
	return time.Unix(0, s), time.Unix(0, a)
}
