package firestore

import "hash/fnv"

// timeShards is how many shards the per-event timestamps that queries
// order by (events' receive_time, deliveries' event_time) are spread
// over. Within one collection, an index on a timestamp takes at most 500
// writes per second (https://cloud.google.com/firestore/docs/solutions/shard-timestamp);
// each index that holds one of these timestamps holds the document's shard
// before it, so one tenant's collection takes up to 500 × timeShards:
// 15,000 writes per second. The queries on them ask for every shard
// (allShards), and Firestore merges the shards in the query's order. 30 is
// the most values an "in" filter takes.
const timeShards = 30

// allShards are every shard, for a query's "in" filter.
var allShards = func() []int {
	out := make([]int, timeShards)
	for i := range out {
		out[i] = i
	}
	return out
}()

// shardOf is the shard of the document with the ID id (an event's, a
// delivery's): a hash, so that a busy tenant's writes spread evenly, and
// the deliveries of one event fanned out to many endpoints spread too.
func shardOf(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % timeShards)
}
