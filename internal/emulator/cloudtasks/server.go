package cloudtasks

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"cloud.google.com/go/cloudtasks/apiv2/cloudtaskspb"
	"golang.org/x/time/rate"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// tombstoneTTL is how long the name of a deleted or finished task stays
// taken. The real service documents "up to 24 hours"; the emulator takes
// the whole window so that code relying on an earlier release fails here.
const tombstoneTTL = 24 * time.Hour

// Server is the emulator's in-memory state, its implementation of the
// Cloud Tasks gRPC service and its HTTP dispatcher. It is safe for
// concurrent use. Register it on any grpc.Server with
// cloudtaskspb.RegisterCloudTasksServer, or let Serve do that, and Close it
// when done: Close stops its timers and in-flight dispatches.
type Server struct {
	// IAM, batch and CMEK methods answer UNIMPLEMENTED.
	cloudtaskspb.UnimplementedCloudTasksServer

	client    *http.Client
	ownClient bool // close its idle connections on Close
	logger    *slog.Logger

	// ctx ends when Close is called: it bounds every dispatch.
	ctx    context.Context
	cancel context.CancelFunc
	// dispatches counts goroutines between a timer firing and the end of
	// the attempt; Close waits for them. Add is only called under mu with
	// closed false, so no Add races Close's Wait.
	dispatches sync.WaitGroup

	// One lock for everything: requests are tiny and in memory, and a single
	// lock makes every RPC and every state change of a dispatch atomic.
	mu         sync.Mutex
	closed     bool
	queues     map[queueName]*queue
	tombstones map[taskName]time.Time // name → when it may be reused
	buried     int                    // tombstones added since the last sweep
}

// queue is one stored queue. Its metadata is owned by the Server and only
// clones leave it.
type queue struct {
	name  queueName
	meta  *cloudtaskspb.Queue
	tasks map[string]*task // by task ID
	// slots holds one token per dispatch in flight, bounding them at
	// max_concurrent_dispatches; it is replaced when that limit changes.
	slots   chan struct{}
	limiter *rate.Limiter // max_dispatches_per_second
}

// task is one stored task.
type task struct {
	id   string
	q    *queue
	meta *cloudtaskspb.Task // View is set on the clones returned
	// timer fires at meta.ScheduleTime while the task waits in a running
	// queue. gen grows each time the task is re-armed or disarmed; a timer
	// callback or a dispatch that finds another gen than its own stands down.
	timer *time.Timer
	gen   uint64
	// inflight counts attempts sent and not yet answered: RunTask may add
	// one to a running attempt, as in the real service.
	inflight int
	// executions counts attempts answered with a non-5xx status, for
	// X-CloudTasks-TaskExecutionCount; prevStatus is the last HTTP status
	// seen, for X-CloudTasks-TaskPreviousResponse.
	executions int32
	prevStatus int
	firstTry   time.Time // dispatch time of the first attempt
}

// Option configures a Server.
type Option func(*Server)

// WithLogger makes the Server log each dispatch attempt (task name, status,
// next schedule; never headers or body) to l. The default logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(s *Server) { s.logger = l }
}

// WithHTTPClient makes the Server dispatch tasks with c, which replaces the
// client given to NewServer. A Timeout on c shortens every attempt's
// dispatch deadline (the real minimum is 15 s), which lets tests exercise
// timeouts quickly.
func WithHTTPClient(c *http.Client) Option {
	return func(s *Server) {
		if c != nil {
			s.client, s.ownClient = c, false
		}
	}
}

// NewServer returns an emulator with no queues that dispatches tasks with
// client, or with a client of its own when client is nil.
func NewServer(client *http.Client, opts ...Option) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		client:     client,
		logger:     slog.New(slog.DiscardHandler),
		ctx:        ctx,
		cancel:     cancel,
		queues:     make(map[queueName]*queue),
		tombstones: make(map[taskName]time.Time),
	}
	if client == nil {
		s.client = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
		s.ownClient = true
	}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// Close stops dispatching: it stops every timer, cancels the attempts in
// flight and waits for their goroutines to end. The state stays readable
// through the API, but nothing is dispatched any more. Closing twice is
// harmless.
func (s *Server) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		for _, q := range s.queues {
			for _, t := range q.tasks {
				disarm(t)
			}
		}
	}
	s.mu.Unlock()
	s.cancel()
	s.dispatches.Wait()
	if s.ownClient {
		s.client.CloseIdleConnections()
	}
}

// lookupQueue returns the stored queue or NOT_FOUND. Callers hold s.mu.
func (s *Server) lookupQueue(name queueName) (*queue, error) {
	q, ok := s.queues[name]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Queue %s does not exist.", name)
	}
	return q, nil
}

// lookupTask returns the stored task or NOT_FOUND. Callers hold s.mu.
func (s *Server) lookupTask(name taskName) (*task, error) {
	q, err := s.lookupQueue(name.queue)
	if err != nil {
		return nil, err
	}
	t, ok := q.tasks[name.id]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Task %s does not exist.", name)
	}
	return t, nil
}

// current reports whether t is still stored, rather than deleted, purged,
// finished or gone with its queue. Callers hold s.mu.
func (s *Server) current(t *task) bool {
	return s.queues[t.q.name] == t.q && t.q.tasks[t.id] == t
}

// removeTask deletes t, stops its timer and keeps its name taken for
// tombstoneTTL. Callers hold s.mu.
func (s *Server) removeTask(t *task, now time.Time) {
	disarm(t)
	delete(t.q.tasks, t.id)
	s.bury(taskName{queue: t.q.name, id: t.id}, now)
}

// bury keeps name taken for tombstoneTTL. Expired tombstones are swept
// every so often, which keeps the set bounded without a background loop.
// Callers hold s.mu.
func (s *Server) bury(name taskName, now time.Time) {
	s.tombstones[name] = now.Add(tombstoneTTL)
	s.buried++
	if s.buried < 1024 {
		return
	}
	s.buried = 0
	for n, until := range s.tombstones {
		if now.After(until) {
			delete(s.tombstones, n)
		}
	}
}

// nameTaken reports whether a task may not be created under name: it
// exists, or existed less than tombstoneTTL ago. Callers hold s.mu.
func (s *Server) nameTaken(q *queue, name taskName, now time.Time) bool {
	if _, ok := q.tasks[name.id]; ok {
		return true
	}
	until, ok := s.tombstones[name]
	if ok && now.After(until) {
		delete(s.tombstones, name)
		return false
	}
	return ok
}

// view returns a copy of t as the API shows it in view v: BASIC (the
// default) leaves out the body, FULL includes it.
func view(t *task, v cloudtaskspb.Task_View) *cloudtaskspb.Task {
	out := proto.CloneOf(t.meta)
	if v != cloudtaskspb.Task_FULL {
		v = cloudtaskspb.Task_BASIC
		if r := out.GetHttpRequest(); r != nil {
			r.Body = nil
		}
	}
	out.View = v
	return out
}
