package cloudtasks

import (
	"crypto/rand"
	"encoding/binary"
	"regexp"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ID syntaxes as the real API documents them. Location IDs are not checked
// against a list of regions, so a local stack can use "local".
var (
	projectIDPattern  = regexp.MustCompile(`^[A-Za-z0-9:.-]{1,100}$`)
	locationIDPattern = regexp.MustCompile(`^[A-Za-z0-9-]{1,63}$`)
	queueIDPattern    = regexp.MustCompile(`^[A-Za-z0-9-]{1,100}$`)
	taskIDPattern     = regexp.MustCompile(`^[A-Za-z0-9_-]{1,500}$`)
)

// locationName identifies a location: projects/{project}/locations/{location}.
type locationName struct {
	project  string
	location string
}

func (n locationName) String() string {
	return "projects/" + n.project + "/locations/" + n.location
}

// queueName identifies a queue: {location}/queues/{id}.
type queueName struct {
	locationName
	id string
}

func (n queueName) String() string { return n.locationName.String() + "/queues/" + n.id }

// taskName identifies a task: {queue}/tasks/{id}.
type taskName struct {
	queue queueName
	id    string
}

func (n taskName) String() string { return n.queue.String() + "/tasks/" + n.id }

// parseLocation parses projects/{project}/locations/{location}.
func parseLocation(name string) (locationName, error) {
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] != "projects" || parts[2] != "locations" {
		return locationName{}, status.Errorf(codes.InvalidArgument,
			"invalid location name %q: want projects/{project}/locations/{location}", name)
	}
	return checkLocation(parts[1], parts[3], name)
}

func checkLocation(project, location, name string) (locationName, error) {
	if !projectIDPattern.MatchString(project) {
		return locationName{}, status.Errorf(codes.InvalidArgument,
			"invalid project ID in %q: letters, digits, hyphens, colons and periods only", name)
	}
	if !locationIDPattern.MatchString(location) {
		return locationName{}, status.Errorf(codes.InvalidArgument,
			"invalid location ID in %q: letters, digits and hyphens only", name)
	}
	return locationName{project: project, location: location}, nil
}

// parseQueueName parses projects/{project}/locations/{location}/queues/{id}.
func parseQueueName(name string) (queueName, error) {
	parts := strings.Split(name, "/")
	if len(parts) != 6 || parts[0] != "projects" || parts[2] != "locations" || parts[4] != "queues" {
		return queueName{}, status.Errorf(codes.InvalidArgument,
			"invalid queue name %q: want projects/{project}/locations/{location}/queues/{queue}", name)
	}
	loc, err := checkLocation(parts[1], parts[3], name)
	if err != nil {
		return queueName{}, err
	}
	if !queueIDPattern.MatchString(parts[5]) {
		return queueName{}, status.Errorf(codes.InvalidArgument,
			"invalid queue ID %q: it must be 1 to 100 letters, digits or hyphens", parts[5])
	}
	return queueName{locationName: loc, id: parts[5]}, nil
}

// parseTaskName parses {queue}/tasks/{id}.
func parseTaskName(name string) (taskName, error) {
	i := strings.LastIndex(name, "/tasks/")
	if i < 0 {
		return taskName{}, status.Errorf(codes.InvalidArgument,
			"invalid task name %q: want projects/{project}/locations/{location}/queues/{queue}/tasks/{task}", name)
	}
	q, err := parseQueueName(name[:i])
	if err != nil {
		return taskName{}, err
	}
	id := name[i+len("/tasks/"):]
	if err := validateTaskID(id); err != nil {
		return taskName{}, err
	}
	return taskName{queue: q, id: id}, nil
}

func validateTaskID(id string) error {
	if !taskIDPattern.MatchString(id) {
		return status.Errorf(codes.InvalidArgument,
			"invalid task ID %q: it must be 1 to 500 letters, digits, hyphens or underscores", id)
	}
	return nil
}

// generatedTaskID returns a random decimal task ID, the shape of the IDs
// the real service picks for unnamed tasks.
func generatedTaskID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return strconv.FormatUint(binary.BigEndian.Uint64(b[:])>>1, 10)
}
