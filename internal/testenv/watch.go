package testenv

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// EventuallyObject waits, through a watch rather than by polling, until
// cond holds for the current state of the object named like obj in c, and
// fails the test when timeout passes first. list is obj's list type; cond
// may return a *Pending to say what it still waits for, as with Eventually.
//
// Why not Eventually: a Get of a large object every 25 ms costs its API
// server a share of the CPU that benchmarks on two cores measure the
// system under test with.
func EventuallyObject[T client.Object](t testing.TB, c *Cluster, obj T, list client.ObjectList, timeout time.Duration, what string, cond func(T) (bool, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := waitForObject(ctx, c, obj, list, cond); err != nil {
		t.Fatalf("waiting %v for %s: %v", timeout, what, err)
	}
}

func waitForObject[T client.Object](ctx context.Context, c *Cluster, obj T, list client.ObjectList, cond func(T) (bool, error)) error {
	wc, err := client.NewWithWatch(c.Config, client.Options{Scheme: c.Client.Scheme(), Mapper: c.Client.RESTMapper()})
	if err != nil {
		return fmt.Errorf("cluster %s: cannot create a watching client: %w", c.Name, err)
	}
	last := Pendingf("%s not seen yet", obj.GetName())
	for ctx.Err() == nil {
		// Without a resource version a watch starts with the object's
		// current state, so a new one after a closed one misses nothing
		// cond needs: only the latest state counts.
		w, err := wc.Watch(ctx, list, client.InNamespace(obj.GetNamespace()), client.MatchingFields{"metadata.name": obj.GetName()})
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return fmt.Errorf("cluster %s: cannot watch %s: %w", c.Name, obj.GetName(), err)
		}
		done, err := untilCond(ctx, w, cond, &last)
		w.Stop()
		if done || err != nil {
			return err
		}
	}
	return fmt.Errorf("%w; still %v", ctx.Err(), last) //nolint:errorlint // The reason only: an ended wait must not read as Pending to an outer one.
}

// untilCond reads w until cond holds (true), cond fails, or w ends (false,
// nil). last keeps the latest *Pending.
func untilCond[T client.Object](ctx context.Context, w watch.Interface, cond func(T) (bool, error), last *error) (bool, error) {
	for {
		select {
		case <-ctx.Done():
			return false, nil
		case ev, ok := <-w.ResultChan():
			if !ok || ev.Type == watch.Error {
				return false, nil
			}
			o, isT := ev.Object.(T)
			if !isT || ev.Type == watch.Bookmark {
				continue
			}
			if ev.Type == watch.Deleted {
				*last = Pendingf("%s deleted", o.GetName())
				continue
			}
			done, err := cond(o)
			if done {
				return true, nil
			}
			var pending *Pending
			if errors.As(err, &pending) {
				*last = err
				continue
			}
			if err != nil {
				return false, err
			}
		}
	}
}
