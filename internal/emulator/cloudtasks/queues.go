package cloudtasks

import (
	"context"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/cloudtasks/apiv2/cloudtaskspb"
	"golang.org/x/time/rate"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// CreateQueue creates a running queue; unset retry and rate settings take
// the service defaults.
func (s *Server) CreateQueue(_ context.Context, req *cloudtaskspb.CreateQueueRequest) (*cloudtaskspb.Queue, error) {
	loc, err := parseLocation(req.GetParent())
	if err != nil {
		return nil, err
	}
	in := req.GetQueue()
	if in == nil {
		return nil, status.Error(codes.InvalidArgument, "queue is required")
	}
	name, err := parseQueueName(in.GetName())
	if err != nil {
		return nil, err
	}
	if name.locationName != loc {
		return nil, status.Errorf(codes.InvalidArgument, "queue name %s is not in parent %s", name, loc)
	}
	if f := unemulatedQueueField(in); f != "" {
		return nil, errNotEmulated("queue." + f)
	}
	cfg, err := queueConfig{retry: in.GetRetryConfig(), rate: in.GetRateLimits(), logging: in.GetStackdriverLoggingConfig()}.normalize()
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, exists := s.queues[name]; exists {
		return nil, status.Errorf(codes.AlreadyExists, "Queue %s already exists.", name)
	}
	q := newQueue(name, cfg)
	s.queues[name] = q
	return proto.CloneOf(q.meta), nil
}

func newQueue(name queueName, cfg queueConfig) *queue {
	q := &queue{
		name: name,
		meta: &cloudtaskspb.Queue{
			Name:  name.String(),
			State: cloudtaskspb.Queue_RUNNING,
		},
		tasks: make(map[string]*task),
	}
	q.configure(cfg)
	return q
}

// configure applies a normalized config. The new concurrency limit applies
// to dispatches that start from now on. Callers hold s.mu.
func (q *queue) configure(cfg queueConfig) {
	q.meta.RetryConfig, q.meta.RateLimits, q.meta.StackdriverLoggingConfig = cfg.retry, cfg.rate, cfg.logging
	if n := int(cfg.rate.GetMaxConcurrentDispatches()); q.slots == nil || cap(q.slots) != n {
		q.slots = make(chan struct{}, n)
	}
	limit := rate.Limit(cfg.rate.GetMaxDispatchesPerSecond())
	if q.limiter == nil {
		q.limiter = rate.NewLimiter(limit, burstSize)
	} else {
		q.limiter.SetLimit(limit)
	}
}

// GetQueue returns a queue.
func (s *Server) GetQueue(_ context.Context, req *cloudtaskspb.GetQueueRequest) (*cloudtaskspb.Queue, error) {
	name, err := parseQueueName(req.GetName())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.lookupQueue(name)
	if err != nil {
		return nil, err
	}
	return proto.CloneOf(q.meta), nil
}

// ListQueues lists a location's queues in lexicographical order.
func (s *Server) ListQueues(_ context.Context, req *cloudtaskspb.ListQueuesRequest) (*cloudtaskspb.ListQueuesResponse, error) {
	loc, err := parseLocation(req.GetParent())
	if err != nil {
		return nil, err
	}
	if req.GetFilter() != "" {
		return nil, errNotEmulated("filter")
	}
	p, err := parsePage(req.GetParent(), req.GetPageSize(), maxQueuePageSize, req.GetPageToken())
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*queue
	for name, q := range s.queues {
		if name.locationName == loc {
			all = append(all, q)
		}
	}
	slices.SortFunc(all, func(a, b *queue) int { return strings.Compare(a.meta.GetName(), b.meta.GetName()) })
	items, next := cut(p, all, func(q *queue) string { return q.meta.GetName() })
	resp := &cloudtaskspb.ListQueuesResponse{NextPageToken: next}
	for _, q := range items {
		resp.Queues = append(resp.Queues, proto.CloneOf(q.meta))
	}
	return resp, nil
}

// UpdateQueue updates the retry config, rate limits and logging config
// named by the update mask (all of them when it is empty), and creates the
// queue if it does not exist, as the real method does.
func (s *Server) UpdateQueue(_ context.Context, req *cloudtaskspb.UpdateQueueRequest) (*cloudtaskspb.Queue, error) {
	in := req.GetQueue()
	if in == nil {
		return nil, status.Error(codes.InvalidArgument, "queue is required")
	}
	name, err := parseQueueName(in.GetName())
	if err != nil {
		return nil, err
	}
	paths := req.GetUpdateMask().GetPaths()

	s.mu.Lock()
	defer s.mu.Unlock()
	var old queueConfig
	q, exists := s.queues[name]
	if exists {
		old = queueConfig{retry: q.meta.GetRetryConfig(), rate: q.meta.GetRateLimits(), logging: q.meta.GetStackdriverLoggingConfig()}
	}
	cfg, err := old.applyMask(in, paths)
	if err != nil {
		return nil, err
	}
	if cfg, err = cfg.normalize(); err != nil {
		return nil, err
	}
	if !exists {
		q = newQueue(name, cfg)
		s.queues[name] = q
	} else {
		q.configure(cfg)
	}
	return proto.CloneOf(q.meta), nil
}

// DeleteQueue deletes a queue and its tasks, whose names stay taken. Unlike
// the real service, the emulator lets a queue name be reused at once.
func (s *Server) DeleteQueue(_ context.Context, req *cloudtaskspb.DeleteQueueRequest) (*emptypb.Empty, error) {
	name, err := parseQueueName(req.GetName())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.lookupQueue(name)
	if err != nil {
		return nil, err
	}
	s.purge(q, time.Now())
	delete(s.queues, name)
	return &emptypb.Empty{}, nil
}

// PurgeQueue deletes every task of a queue; their names stay taken.
// Attempts in flight finish, but their outcome is dropped.
func (s *Server) PurgeQueue(_ context.Context, req *cloudtaskspb.PurgeQueueRequest) (*cloudtaskspb.Queue, error) {
	name, err := parseQueueName(req.GetName())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.lookupQueue(name)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	s.purge(q, now)
	q.meta.PurgeTime = timestamppb.New(now.Truncate(time.Microsecond))
	return proto.CloneOf(q.meta), nil
}

// purge removes every task of q. Callers hold s.mu.
func (s *Server) purge(q *queue, now time.Time) {
	for _, t := range q.tasks {
		s.removeTask(t, now)
	}
}

// PauseQueue stops dispatching from a queue; tasks can still be added, and
// attempts in flight finish.
func (s *Server) PauseQueue(_ context.Context, req *cloudtaskspb.PauseQueueRequest) (*cloudtaskspb.Queue, error) {
	return s.setState(req.GetName(), cloudtaskspb.Queue_PAUSED)
}

// ResumeQueue resumes dispatching from a paused queue: tasks whose schedule
// time has passed go out at once.
func (s *Server) ResumeQueue(_ context.Context, req *cloudtaskspb.ResumeQueueRequest) (*cloudtaskspb.Queue, error) {
	return s.setState(req.GetName(), cloudtaskspb.Queue_RUNNING)
}

func (s *Server) setState(queueName string, state cloudtaskspb.Queue_State) (*cloudtaskspb.Queue, error) {
	name, err := parseQueueName(queueName)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.lookupQueue(name)
	if err != nil {
		return nil, err
	}
	q.meta.State = state
	for _, t := range q.tasks {
		if state == cloudtaskspb.Queue_RUNNING {
			s.arm(t)
		} else {
			disarm(t)
		}
	}
	return proto.CloneOf(q.meta), nil
}
