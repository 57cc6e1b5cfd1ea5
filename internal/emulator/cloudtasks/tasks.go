package cloudtasks

import (
	"context"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/cloudtasks/apiv2/cloudtaskspb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// CreateTask adds an HTTP task to a queue. Without a name the task gets a
// generated one; with a name that a task has, or had within the tombstone
// window, it fails with ALREADY_EXISTS, which makes named creation
// idempotent.
func (s *Server) CreateTask(_ context.Context, req *cloudtaskspb.CreateTaskRequest) (*cloudtaskspb.Task, error) {
	qname, err := parseQueueName(req.GetParent())
	if err != nil {
		return nil, err
	}
	in := req.GetTask()
	if in == nil {
		return nil, status.Error(codes.InvalidArgument, "task is required")
	}
	var id string
	if in.GetName() != "" {
		name, err := parseTaskName(in.GetName())
		if err != nil {
			return nil, err
		}
		if name.queue != qname {
			return nil, status.Errorf(codes.InvalidArgument, "task name %s is not in queue %s", in.GetName(), qname)
		}
		id = name.id
	}
	now := time.Now()
	if err := validateTask(in, now); err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.lookupQueue(qname)
	if err != nil {
		return nil, err
	}
	if id == "" {
		id = generatedTaskID()
		for s.nameTaken(q, taskName{queue: qname, id: id}, now) {
			id = generatedTaskID()
		}
	} else if s.nameTaken(q, taskName{queue: qname, id: id}, now) {
		return nil, status.Errorf(codes.AlreadyExists, "Requested entity already exists: task %s exists or existed recently.", taskName{queue: qname, id: id})
	}
	t := &task{id: id, q: q, meta: newTaskMeta(in, taskName{queue: qname, id: id}, now)}
	q.tasks[id] = t
	s.arm(t)
	return view(t, req.GetResponseView()), nil
}

// newTaskMeta keeps the caller-settable fields of in and sets the output
// ones as the real service does.
func newTaskMeta(in *cloudtaskspb.Task, name taskName, now time.Time) *cloudtaskspb.Task {
	r := proto.CloneOf(in.GetHttpRequest())
	if r.HttpMethod == cloudtaskspb.HttpMethod_HTTP_METHOD_UNSPECIFIED {
		r.HttpMethod = cloudtaskspb.HttpMethod_POST
	}
	sched := now
	if ts := in.GetScheduleTime(); ts != nil && ts.AsTime().After(now) {
		sched = ts.AsTime()
	}
	deadline := durationpb.New(defaultDeadline)
	if d := in.GetDispatchDeadline(); d != nil {
		deadline = durationpb.New(d.AsDuration().Truncate(time.Millisecond))
	}
	return &cloudtaskspb.Task{
		Name:             name.String(),
		MessageType:      &cloudtaskspb.Task_HttpRequest{HttpRequest: r},
		ScheduleTime:     timestamppb.New(sched.Truncate(time.Microsecond)),
		CreateTime:       timestamppb.New(now.Truncate(time.Second)),
		DispatchDeadline: deadline,
		RetryConfig:      proto.CloneOf(in.GetRetryConfig()),
	}
}

// GetTask returns a task.
func (s *Server) GetTask(_ context.Context, req *cloudtaskspb.GetTaskRequest) (*cloudtaskspb.Task, error) {
	name, err := parseTaskName(req.GetName())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.lookupTask(name)
	if err != nil {
		return nil, err
	}
	return view(t, req.GetResponseView()), nil
}

// ListTasks lists the tasks of a queue, ordered by task ID (the real
// service promises no order).
func (s *Server) ListTasks(_ context.Context, req *cloudtaskspb.ListTasksRequest) (*cloudtaskspb.ListTasksResponse, error) {
	qname, err := parseQueueName(req.GetParent())
	if err != nil {
		return nil, err
	}
	p, err := parsePage(req.GetParent(), req.GetPageSize(), maxTaskPageSize, req.GetPageToken())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.lookupQueue(qname)
	if err != nil {
		return nil, err
	}
	all := make([]*task, 0, len(q.tasks))
	for _, t := range q.tasks {
		all = append(all, t)
	}
	slices.SortFunc(all, func(a, b *task) int { return strings.Compare(a.id, b.id) })
	items, next := cut(p, all, func(t *task) string { return t.id })
	resp := &cloudtaskspb.ListTasksResponse{NextPageToken: next}
	for _, t := range items {
		resp.Tasks = append(resp.Tasks, view(t, req.GetResponseView()))
	}
	return resp, nil
}

// DeleteTask deletes a scheduled or running task; its name stays taken. An
// attempt in flight finishes, but its outcome is dropped. A task that
// already succeeded or ran out of attempts is NOT_FOUND, as in the real
// service.
func (s *Server) DeleteTask(_ context.Context, req *cloudtaskspb.DeleteTaskRequest) (*emptypb.Empty, error) {
	name, err := parseTaskName(req.GetName())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.lookupTask(name)
	if err != nil {
		return nil, err
	}
	s.removeTask(t, time.Now())
	return &emptypb.Empty{}, nil
}

// RunTask dispatches a task now, even when its queue is paused or at its
// rate limits, or the task is already running, as the real method does.
// The task returned shows the attempt dispatched but not yet answered.
func (s *Server) RunTask(_ context.Context, req *cloudtaskspb.RunTaskRequest) (*cloudtaskspb.Task, error) {
	name, err := parseTaskName(req.GetName())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.lookupTask(name)
	if err != nil {
		return nil, err
	}
	if s.closed {
		return nil, status.Error(codes.Unavailable, "the emulator is shutting down")
	}
	t.meta.ScheduleTime = timestamppb.New(time.Now().Truncate(time.Microsecond))
	a := s.begin(t)
	s.dispatches.Add(1)
	go func() {
		defer s.dispatches.Done()
		s.attempt(t, a)
	}()
	return view(t, req.GetResponseView()), nil
}
