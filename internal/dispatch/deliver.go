package dispatch

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/metrics"
	"github.com/hookrun/hookrun/internal/sender"
	"github.com/hookrun/hookrun/internal/wire"
)

// attempt is one delivery attempt to make: attempt n, in chain, of event to
// ep. (A "job" in this package is a replay job message: see replay.go.)
type attempt struct {
	tenant hookrun.Tenant
	event  hookrun.Event
	ep     *hookrun.Endpoint
	chain  string
	n      int
	body   []byte
	// firstMessage is whether the attempt is made for its event's first
	// message (firstMessage): its success may then be recorded after
	// the push is acknowledged (Service.record).
	firstMessage bool
	// stored is whether the event was read from the store (a replay), so
	// that keepEvent has nothing to do.
	stored bool
}

// delivery is the record of at's delivery before attempt at.n: its chain
// and the attempts made in it, in no state yet.
func (at attempt) delivery(now time.Time) hookrun.Delivery {
	e := at.event
	return hookrun.Delivery{
		TenantID:      e.TenantID,
		EventID:       e.ID,
		EndpointID:    at.ep.ID,
		EventType:     e.Type,
		EventAt:       e.ReceivedAt,
		WebhookID:     hookrun.WebhookID(e.TenantID, e.ID, at.ep.ID),
		Chain:         at.chain,
		ChainAttempts: at.n - 1,
		UpdatedAt:     now.UTC(),
	}
}

// fanOut makes the first attempt of e to every matching endpoint that does
// not have it yet, and records a dead letter for every endpoint that was
// active and subscribed when e was accepted but is not active now
// (hookrun.Endpoint.Owes). It returns nil once every outcome is recorded
// and every failed attempt's retry is scheduled; an error (storage,
// secrets or scheduling unavailable) means the message must be
// redelivered, and the redelivery picks up where this one stopped.
//
// deliveryAttempt is Pub/Sub's count of the message's deliveries (0 when
// it does not say): whether the message may follow an earlier one of the
// same event (firstMessage).
func (s *Service) fanOut(ctx context.Context, t hookrun.Tenant, e hookrun.Event, attrs map[string]string, deliveryAttempt int) error {
	chain, only := attrs[wire.AttrChain], attrs[wire.AttrEndpoint]
	// The list must be no older than the event, less the endpoint change
	// delay: an endpoint created that long before the event was accepted
	// must get it, whatever the cache holds. A redelivery, replay or test
	// event must see the endpoints as they are now, exactly: one enabled
	// just before it was asked for must not look disabled. So must an
	// event that ingest marks as accepted just after it changed the
	// tenant's endpoints itself.
	fresh, exact := e.ReceivedAt, attrs[wire.AttrEndpointsChanged] != "" || only != ""
	if chain != "" {
		fresh, exact = s.now(), true
	}
	all, err := s.tenantEndpoints(ctx, e.TenantID, fresh, exact)
	if err != nil {
		return fmt.Errorf("list endpoints: %w", err)
	}
	cands := candidates(all, e, chain, only)
	if len(cands) == 0 {
		slog.InfoContext(ctx, "no endpoint matches", "tenant_id", e.TenantID, "event_id", e.ID, "event_type", e.Type, "endpoint_id", only)
		return nil
	}
	ids := make([]string, len(cands))
	for i, c := range cands {
		ids[i] = c.ep.ID
	}
	first := firstMessage(e, attrs, deliveryAttempt)
	prev, err := s.earlierDeliveries(ctx, e, first, ids)
	if err != nil {
		return err
	}

	body := hookrun.WebhookBody(e)
	var tasks []func() error
	for _, c := range cands {
		ep := c.ep
		d, seen := prev[ep.ID]
		switch {
		case seen && d.Chain == chain:
			// A redelivered message: the first attempt of this chain was
			// made; finish what may have been left undone, whatever
			// became of the endpoint since (a retry that was not yet
			// scheduled must be, for its task to settle it).
			tasks = append(tasks, func() error { return s.resume(ctx, e, d) })
		case !c.owed:
		case !seen, chain != "":
			// First delivery, or a redelivery starting a fresh chain.
			at := attempt{tenant: t, event: e, ep: ep, chain: chain, n: 1, body: body, firstMessage: first}
			if ep.Status != hookrun.EndpointActive {
				// Owed, but the endpoint went inactive after the event
				// was accepted (or before a redelivery reached it).
				tasks = append(tasks, func() error {
					if err := s.keepEvent(ctx, at); err != nil {
						return err
					}
					return s.markDead(ctx, at.delivery(s.now()), ep.InactiveReason())
				})
				continue
			}
			tasks = append(tasks, func() error { return s.settle(ctx, at) })
		default:
			// The original message redelivered after a replay started a
			// newer chain: the replay supersedes it.
		}
	}
	return s.runAll(tasks)
}

// runAll runs tasks, at most MaxFanOut at once, and returns the first
// error. One task, the common case, runs on the caller's goroutine, whose
// stack has already grown for it. Not errgroup.WithContext: one endpoint's
// failure (its secret cannot be read) must not cancel the attempts in
// flight to the others, or a broken endpoint would starve every other
// endpoint of the tenant.
func (s *Service) runAll(tasks []func() error) error {
	if len(tasks) == 1 {
		return tasks[0]()
	}
	var g errgroup.Group
	g.SetLimit(s.cfg.MaxFanOut)
	for _, task := range tasks {
		g.Go(task)
	}
	return g.Wait()
}

// earlierDeliveries returns the deliveries of e to the endpoints ids that
// earlier messages of e made. The store is read only when the message may
// not be e's first (first false): the first message of an event has none
// to find, and sparing it the read keeps the happy path free of a
// Firestore round trip before the push is acknowledged. The deliveries
// whose records this instance has yet to write (attemptLog) are added
// either way.
func (s *Service) earlierDeliveries(ctx context.Context, e hookrun.Event, first bool, ids []string) (map[string]hookrun.Delivery, error) {
	var prev map[string]hookrun.Delivery
	if !first {
		var err error
		if prev, err = s.store.GetDeliveries(ctx, e.TenantID, e.ID, ids); err != nil {
			return nil, fmt.Errorf("get deliveries: %w", err)
		}
	}
	return addUnwritten(s.attempts, prev, e.TenantID, e.ID, ids), nil
}

// firstMessage reports whether a message is known to be the first of its
// event, so that no delivery of the event can exist yet: ingest published
// it (other publishers may publish one event twice under new message
// IDs), it is not a replay or redelivery (those follow earlier
// deliveries), Pub/Sub delivers it for the first time (its
// deliveryAttempt is 1; absent, it may be a redelivery), and ingest did
// not mark it as possibly following an earlier publish of the event
// (wire.AttrCheckDeliveries).
func firstMessage(e hookrun.Event, attrs map[string]string, deliveryAttempt int) bool {
	return deliveryAttempt == 1 && e.Source == hookrun.SourceAPI &&
		attrs[wire.AttrChain] == "" && attrs[wire.AttrEndpoint] == "" && attrs[wire.AttrCheckDeliveries] == ""
}

// candidate is an endpoint a message may concern: owed, it gets the
// event (or a dead letter for it); otherwise only a delivery already
// started in the message's chain is finished.
type candidate struct {
	ep   *hookrun.Endpoint
	owed bool
}

// candidates picks the endpoints a message concerns. The event's own
// message concerns every endpoint subscribed to its type, and is owed by
// those active now or since it was accepted (hookrun.Endpoint.Owes). A
// redelivery is owed by the active subscribed endpoints, or by the one
// endpoint it names whatever its filter and status. None concerns the
// endpoint the event is withheld from (hookrun.Event.WithheldFrom).
func candidates(all []hookrun.Endpoint, e hookrun.Event, chain, only string) []candidate {
	var out []candidate
	withheld := e.WithheldFrom()
	for i := range all {
		ep := &all[i]
		switch {
		case ep.ID == withheld:
			// The notice of its own disabling, not even as a dead letter.
		case only != "":
			if ep.ID == only {
				out = append(out, candidate{ep, true})
			}
		case chain != "":
			if ep.Matches(e.Type) {
				out = append(out, candidate{ep, true})
			}
		case ep.Subscribed(e.Type):
			out = append(out, candidate{ep, ep.Owes(e.ReceivedAt)})
		}
	}
	return out
}

// resume completes the bookkeeping after an attempt whose recording
// succeeded but whose follow-up may not have: the next retry scheduled, or
// the dead letter counted and announced (finishDead). Both are
// idempotent.
func (s *Service) resume(ctx context.Context, e hookrun.Event, d hookrun.Delivery) error {
	switch {
	case d.State == hookrun.DeliveryRetrying:
		return s.scheduleRetry(ctx, e, d)
	case d.State == hookrun.DeliveryDead:
		return s.finishDead(ctx, d)
	}
	return nil
}

// settle makes one attempt, records it with the delivery's new state, and
// follows up: schedules the retry, or counts the dead letter against the
// endpoint (a 410 disables it) and announces it. A receiver's failure is
// an outcome, not an error; only a failure to sign, record or follow up
// is.
func (s *Service) settle(ctx context.Context, at attempt) error {
	if wait := s.rateWait(at.ep); wait > 0 {
		return s.deferAttempt(ctx, at, wait)
	}
	creds, err := s.credentials(ctx, at.ep)
	if err != nil {
		return fmt.Errorf("signing secret of endpoint %s: %w", at.ep.ID, err)
	}
	e := at.event
	webhookID := hookrun.WebhookID(e.TenantID, e.ID, at.ep.ID)
	ctx, sendCtx, span := startAttempt(ctx, at)
	defer span.End()
	a := s.sender.Send(sendCtx, at.ep.URL, at.ep.AttemptTimeout(), creds, webhookID, at.body)
	a.Number, a.Chain = at.n, at.chain
	now := s.now()
	dec := hookrun.Decide(a, at.tenant.EffectiveRetryPolicy(at.ep), at.ep.OnClientError, a.RetryAfter, now, rand.Float64())

	d := at.delivery(now)
	d.ChainAttempts, d.LastStatusCode, d.LastError = a.Number, a.StatusCode, a.Error
	switch dec.Verdict {
	case hookrun.VerdictSucceeded:
		d.State = hookrun.DeliverySucceeded
	case hookrun.VerdictRetry:
		d.State, d.NextAttemptAt = hookrun.DeliveryRetrying, now.Add(dec.Delay).UTC()
	default:
		d.State, d.DeadReason, d.DeadAt = hookrun.DeliveryDead, dec.Reason, now.UTC()
		d.CountsInARow = dec.Verdict == hookrun.VerdictDead
	}
	endAttempt(span, a, d)
	logAttempt(ctx, at, webhookID, a, d)

	// Record even if the request was cancelled meanwhile: the attempt
	// happened, and what follows must not be cut short either.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RecordTimeout)
	defer cancel()
	if err := s.record(ctx, at, d, a); err != nil {
		return fmt.Errorf("record attempt %d of %s: %w", a.Number, hookrun.DeliveryID(e.ID, at.ep.ID), err)
	}
	s.countAttempt(ctx, e, d, a, now)
	switch {
	case dec.Verdict == hookrun.VerdictGone:
		return s.disableEndpoint(ctx, d, hookrun.DisabledByGone, d.DeadReason)
	case d.State == hookrun.DeliverySucceeded && at.ep.ConsecutiveDead > 0:
		if err := s.store.ResetDeadInARow(ctx, d.TenantID, d.EndpointID); err != nil {
			slog.ErrorContext(ctx, "reset dead letters in a row", "endpoint_id", d.EndpointID, "error", err.Error())
		}
	}
	if err := s.resume(ctx, e, d); err != nil {
		return err
	}
	if d.State == hookrun.DeliveryRetrying {
		s.metrics.RetryScheduled(ctx)
	}
	return nil
}

// record stores attempt a of at with the state d it left the delivery in.
// The success of an event's first message needs nothing durable before
// its push is acknowledged (no retry hangs on it, no earlier delivery
// exists), so the attempt log writes it afterwards, batched, when there
// is one and it has room; every other attempt is stored before.
func (s *Service) record(ctx context.Context, at attempt, d hookrun.Delivery, a hookrun.Attempt) error {
	if d.State == hookrun.DeliverySucceeded {
		if at.firstMessage && s.attempts.Add(hookrun.AttemptRecord{Delivery: d, Attempt: a}) {
			return nil
		}
	} else if err := s.keepEvent(ctx, at); err != nil {
		return err
	}
	return s.store.RecordAttempt(ctx, d, a)
}

// keepEvent stores the event of at, a first attempt about to leave a
// delivery that is not a success (a retry, a dead letter), unless a
// record of it is kept already: the retry of an event too large for its
// task, and the replay of a dead letter, read the event back, and ingest
// records an event after its 202 (internal/ingest/records.go), so its
// record may not be written yet, or ever if that instance died first.
// An existing record is kept (Store.SaveEvent); the message ID is
// ingest's to record.
func (s *Service) keepEvent(ctx context.Context, at attempt) error {
	if at.n != 1 || at.stored || at.event.Source != hookrun.SourceAPI {
		return nil
	}
	if err := s.store.SaveEvent(ctx, at.event, ""); err != nil {
		return fmt.Errorf("keep event %s for its retries: %w", at.event.ID, err)
	}
	return nil
}

// countAttempt records the metrics of an attempt once it is recorded: its
// status and duration, and the state it left the delivery in.
func (s *Service) countAttempt(ctx context.Context, e hookrun.Event, d hookrun.Delivery, a hookrun.Attempt, now time.Time) {
	s.metrics.Attempt(ctx, a.StatusCode, a.Latency)
	switch d.State {
	case hookrun.DeliverySucceeded:
		s.metrics.Delivery(ctx, metrics.OutcomeSucceeded)
		s.metrics.Delivered(ctx, e.ReceivedAt, now)
	case hookrun.DeliveryRetrying:
		s.metrics.Delivery(ctx, metrics.OutcomeRetrying)
	case hookrun.DeliveryDead:
		s.metrics.Delivery(ctx, metrics.OutcomeDead)
	}
}

// deferAttempt puts attempt at.n off by wait, for the endpoint's rate limit:
// no request is made and no attempt counted; a task makes it later.
func (s *Service) deferAttempt(ctx context.Context, at attempt, wait time.Duration) error {
	if err := s.keepEvent(ctx, at); err != nil {
		return err
	}
	now := s.now()
	d := at.delivery(now)
	d.State, d.NextAttemptAt = hookrun.DeliveryRetrying, now.Add(wait).UTC()
	slog.InfoContext(ctx, "delivery waits for the endpoint's rate limit", "tenant_id", d.TenantID, "event_id", d.EventID,
		"endpoint_id", d.EndpointID, "attempt", at.n, "wait_ms", wait.Milliseconds())
	if err := s.store.SetDeliveryState(ctx, d); err != nil {
		return fmt.Errorf("defer delivery: %w", err)
	}
	return s.scheduleRetry(ctx, at.event, d)
}

// rateWait reserves a slot under the endpoint's rate limit and returns how
// long until it. Limits are kept per dispatcher instance, so with M
// instances an endpoint may see up to M times its limit.
func (s *Service) rateWait(ep *hookrun.Endpoint) time.Duration {
	if ep.RateLimit <= 0 {
		return 0
	}
	v, _ := s.limiters.Load(ep.ID)
	lim, _ := v.(*rate.Limiter)
	if lim == nil || lim.Burst() != ep.RateLimit {
		lim = rate.NewLimiter(rate.Limit(ep.RateLimit), ep.RateLimit)
		s.limiters.Store(ep.ID, lim)
	}
	return lim.ReserveN(s.now(), 1).DelayFrom(s.now())
}

// credentials returns the cached signers and headers of an endpoint's
// secret versions (immutable, so cached long).
func (s *Service) credentials(ctx context.Context, ep *hookrun.Endpoint) (sender.Credentials, error) {
	cur, prev := ep.SigningVersions(s.now())
	return s.creds.Get(ctx, cur+"|"+prev, func(ctx context.Context) (sender.Credentials, error) {
		sec, err := s.endpointSecret(ctx, cur)
		if err != nil {
			return sender.Credentials{}, err
		}
		var prevSigning string
		if prev != "" {
			p, err := s.endpointSecret(ctx, prev)
			if err != nil {
				return sender.Credentials{}, err
			}
			prevSigning = p.SigningSecret
		}
		return sender.NewCredentials(sec, prevSigning)
	})
}

func (s *Service) endpointSecret(ctx context.Context, version string) (hookrun.EndpointSecret, error) {
	payload, err := s.secrets.Access(ctx, version)
	if err != nil {
		return hookrun.EndpointSecret{}, err
	}
	return hookrun.ParseEndpointSecret(payload)
}

// logAttempt writes an attempt's log line. The fields that only some
// attempts have (a replay's chain, an error, the next attempt's time, why
// the delivery died) are left out when empty: most attempts succeed, and
// each field costs its encoding and its bytes in Cloud Logging.
func logAttempt(ctx context.Context, at attempt, webhookID string, a hookrun.Attempt, d hookrun.Delivery) {
	level := slog.LevelInfo
	if !a.Succeeded() {
		level = slog.LevelWarn
	}
	attrs := make([]slog.Attr, 0, 13)
	attrs = append(attrs, slog.String("tenant_id", at.event.TenantID), slog.String("event_id", at.event.ID),
		slog.String("event_type", at.event.Type), slog.String("endpoint_id", at.ep.ID), slog.String("webhook_id", webhookID))
	if at.chain != "" {
		attrs = append(attrs, slog.String("chain", at.chain))
	}
	attrs = append(attrs, slog.Int("attempt", a.Number), slog.Int("status", a.StatusCode),
		slog.Float64("latency_ms", float64(a.Latency.Microseconds())/1000))
	if a.Error != "" {
		attrs = append(attrs, slog.String("error", a.Error))
	}
	attrs = append(attrs, slog.String("state", string(d.State)))
	if !d.NextAttemptAt.IsZero() {
		attrs = append(attrs, slog.Time("next_attempt_time", d.NextAttemptAt))
	}
	if d.DeadReason != "" {
		attrs = append(attrs, slog.String("dead_reason", d.DeadReason))
	}
	slog.LogAttrs(ctx, level, "delivery attempt", attrs...)
}
