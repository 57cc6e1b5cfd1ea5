package cloudtasks

import (
	"context"
	"log/slog"
	"time"

	"cloud.google.com/go/cloudtasks/apiv2/cloudtaskspb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The scheduler keeps one timer per task waiting in a running queue, set to
// its schedule_time; nothing polls. When a timer fires, a goroutine takes a
// slot of the queue's concurrency limit and a token of its rate limiter,
// checks that the task is still due (not deleted, paused, re-armed or run
// meanwhile: its generation is unchanged), sends the attempt and records
// the outcome: success deletes the task, failure re-arms it after the retry
// delay or deletes it once its attempts are exhausted.

// arm sets t's timer for its schedule_time, replacing any earlier one,
// unless its queue is paused, an attempt is in flight (its outcome re-arms
// the task) or the server is closed. Callers hold s.mu.
func (s *Server) arm(t *task) {
	disarm(t)
	if s.closed || t.inflight > 0 || t.q.meta.GetState() != cloudtaskspb.Queue_RUNNING {
		return
	}
	gen := t.gen
	t.timer = time.AfterFunc(time.Until(t.meta.GetScheduleTime().AsTime()), func() { s.fire(t, gen) })
}

// disarm stops t's timer and makes any dispatch already under way for it
// stand down. Callers hold s.mu.
func disarm(t *task) {
	t.gen++
	if t.timer != nil {
		t.timer.Stop()
		t.timer = nil
	}
}

// due reports whether the dispatch armed as generation gen of t may go
// ahead. Callers hold s.mu.
func (s *Server) due(t *task, gen uint64) bool {
	return !s.closed && t.gen == gen && s.current(t) && t.q.meta.GetState() == cloudtaskspb.Queue_RUNNING
}

// fire runs in the timer's goroutine when t's schedule_time comes.
func (s *Server) fire(t *task, gen uint64) {
	s.mu.Lock()
	if !s.due(t, gen) {
		s.mu.Unlock()
		return
	}
	slots, limiter := t.q.slots, t.q.limiter
	s.dispatches.Add(1)
	s.mu.Unlock()
	defer s.dispatches.Done()

	select {
	case slots <- struct{}{}:
	case <-s.ctx.Done():
		return
	}
	defer func() { <-slots }()
	if err := limiter.Wait(s.ctx); err != nil {
		return // closed
	}

	s.mu.Lock()
	if !s.due(t, gen) {
		s.mu.Unlock()
		return
	}
	a := s.begin(t)
	s.mu.Unlock()
	s.attempt(t, a)
}

// begin records the dispatch of a new attempt of t and returns what to
// send. Callers hold s.mu.
func (s *Server) begin(t *task) *attempt {
	disarm(t)
	now := time.Now()
	m := t.meta
	r := m.GetHttpRequest()
	a := &attempt{
		method:     r.GetHttpMethod().String(),
		url:        r.GetUrl(),
		headers:    r.GetHeaders(), // never modified after creation
		body:       r.GetBody(),
		deadline:   m.GetDispatchDeadline().AsDuration(),
		queueID:    t.q.name.id,
		taskID:     t.id,
		eta:        m.GetScheduleTime().AsTime(),
		retryCount: m.GetDispatchCount(),
		execCount:  t.executions,
		prevStatus: t.prevStatus,
	}
	switch {
	case r.GetOidcToken() != nil:
		a.authorization = "Bearer " + FakeOIDCToken
	case r.GetOauthToken() != nil:
		a.authorization = "Bearer " + FakeOAuthToken
	}
	m.DispatchCount++
	a.number = m.DispatchCount
	dispatched := timestamppb.New(now.Truncate(time.Microsecond))
	if m.FirstAttempt == nil {
		m.FirstAttempt = &cloudtaskspb.Attempt{DispatchTime: dispatched}
		t.firstTry = now
	}
	m.LastAttempt = &cloudtaskspb.Attempt{ScheduleTime: m.GetScheduleTime(), DispatchTime: dispatched}
	t.inflight++
	return a
}

// attempt sends a and records its outcome.
func (s *Server) attempt(t *task, a *attempt) {
	code, err := s.send(a)
	s.finish(t, a, code, err)
}

// finish records the outcome of attempt a of t: an HTTP status, or the error
// that kept it from getting one.
func (s *Server) finish(t *task, a *attempt, code int, sendErr error) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	t.inflight--
	if s.closed {
		return
	}
	name := taskName{queue: t.q.name, id: t.id}.String()
	if !s.current(t) {
		s.log(slog.LevelInfo, "task attempt dropped: the task was deleted meanwhile", name, a, code, sendErr)
		return
	}
	m := t.meta
	if a.number == m.GetDispatchCount() {
		m.LastAttempt.ResponseTime = timestamppb.New(now.Truncate(time.Microsecond))
		m.LastAttempt.ResponseStatus = responseStatus(code, sendErr)
	}
	t.prevStatus = code
	if sendErr == nil {
		m.ResponseCount++
		if code < 500 {
			t.executions++
		}
		if code >= 200 && code < 300 {
			s.removeTask(t, now)
			s.log(slog.LevelInfo, "task succeeded", name, a, code, nil)
			return
		}
	}
	if t.inflight > 0 {
		return // the other attempt's outcome decides what comes next
	}
	p := s.policy(t)
	if p.exhausted(m.GetDispatchCount(), t.firstTry, now) {
		s.removeTask(t, now)
		s.log(slog.LevelWarn, "task failed for the last time and was deleted", name, a, code, sendErr)
		return
	}
	next := now.Add(p.delay(m.GetDispatchCount())).Truncate(time.Microsecond)
	m.ScheduleTime = timestamppb.New(next)
	s.arm(t)
	s.log(slog.LevelInfo, "task failed, retry scheduled", name, a, code, sendErr, slog.Time("next_attempt", next))
}

// policy is t's retry policy: the queue's, with the fields set in the
// task's own retry_config overriding it.
func (s *Server) policy(t *task) retryPolicy {
	p := policyOf(t.q.meta.GetRetryConfig())
	o := t.meta.GetRetryConfig()
	if o == nil {
		return p
	}
	if o.GetMaxAttempts() != 0 {
		p.maxAttempts = o.GetMaxAttempts()
	}
	if o.GetMaxRetryDuration() != nil {
		p.maxRetryDuration = o.GetMaxRetryDuration().AsDuration()
	}
	if d := o.GetMinBackoff().AsDuration(); d > 0 {
		p.minBackoff = d
	}
	if d := o.GetMaxBackoff().AsDuration(); d > 0 {
		p.maxBackoff = d
	}
	if o.GetMaxDoublings() != 0 {
		p.maxDoublings = o.GetMaxDoublings()
	}
	return p
}

func (s *Server) log(level slog.Level, msg, task string, a *attempt, code int, err error, extra ...slog.Attr) {
	attrs := append([]slog.Attr{
		slog.String("task", task),
		slog.Int("attempt", int(a.number)),
	}, extra...)
	if code != 0 {
		attrs = append(attrs, slog.Int("status_code", code))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	s.logger.LogAttrs(context.Background(), level, msg, attrs...)
}
