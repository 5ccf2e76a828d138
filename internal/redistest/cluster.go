package redistest

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a Redis Cluster of master nodes owned by a test: every node a redis-server of its
// own (see Server), the 16384 hash slots split evenly across them, no replicas.
type Cluster struct {
	// Nodes are the masters, in slot order: Nodes[0] serves the lowest slots.
	Nodes []*Server
	// Addrs are the nodes' addresses, in the order of Nodes.
	Addrs []string
}

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// clusterTimeout bounds how long a new cluster may take to agree that it is complete.
const clusterTimeout = 10 * time.Second

// StartCluster starts a Redis Cluster of masters nodes for tb (3 is the smallest Redis
// recommends) and stops every node at tb's cleanup. Each node listens on a free loopback port,
// with a cluster bus port, a directory and a cluster config file of its own, and persists
// nothing. StartCluster assigns each node a contiguous range of the slots, joins the nodes and
// returns once every node's CLUSTER INFO says cluster_state:ok (or fails tb after
// clusterTimeout). Like Start, it skips tb (fails it in CI) when redis-server is not installed.
func StartCluster(tb testing.TB, masters int) *Cluster {
	tb.Helper()
	if masters < 1 || masters > clusterSlots {
		tb.Fatalf("redistest: StartCluster: %d masters", masters)
	}
	bin := lookBinary(tb)
	c := &Cluster{}
	for range masters {
		s := start(tb, bin, true)
		c.Nodes = append(c.Nodes, s)
		c.Addrs = append(c.Addrs, s.Addr)
	}
	if err := c.join(); err != nil {
		tb.Fatalf("redistest: StartCluster: %v", err)
	}
	return c
}

// join gives every node its slots and a config epoch of its own, introduces the nodes to the
// first one, and waits until every node sees the cluster complete.
func (c *Cluster) join() error {
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	nodes := make([]*redis.Client, len(c.Nodes))
	for i, s := range c.Nodes {
		nodes[i] = s.Client(s.tb)
		lo, hi := i*clusterSlots/len(c.Nodes), (i+1)*clusterSlots/len(c.Nodes)-1
		if err := nodes[i].Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err(); err != nil {
			return fmt.Errorf("node %s: CLUSTER ADDSLOTSRANGE %d %d: %w", s.Addr, lo, hi, err)
		}
		// Distinct epochs spare the nodes resolving a collision before they agree (redis-cli
		// --cluster create does the same).
		if err := nodes[i].Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err(); err != nil {
			return fmt.Errorf("node %s: CLUSTER SET-CONFIG-EPOCH: %w", s.Addr, err)
		}
	}
	for _, s := range c.Nodes[1:] {
		// The bus port is not port+10000 (see launch), so MEET must name it.
		host, port, _ := net.SplitHostPort(s.Addr)
		if err := nodes[0].Do(ctx, "CLUSTER", "MEET", host, port, s.busPort).Err(); err != nil {
			return fmt.Errorf("node %s: CLUSTER MEET %s: %w", c.Addrs[0], s.Addr, err)
		}
	}
	for i, n := range nodes {
		for {
			info, err := n.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			select {
			case <-ctx.Done():
				if err == nil {
					err = fmt.Errorf("CLUSTER INFO says:\n%s", strings.TrimSpace(info))
				}
				return fmt.Errorf("node %s did not report cluster_state:ok within %v: %w", c.Addrs[i], clusterTimeout, err)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return nil
}

// Client returns a new go-redis cluster client of its own (its own connections) to the cluster,
// closed at tb's cleanup, with the short timeouts of Server.Client.
func (c *Cluster) Client(tb testing.TB) *redis.ClusterClient {
	tb.Helper()
	cc := redis.NewClusterClient(clientOptions(c.Addrs...).Cluster())
	tb.Cleanup(func() { _ = cc.Close() })
	return cc
}
