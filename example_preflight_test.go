package copydb_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sync"
	"time"

	"github.com/rdskit/copydb"
	"github.com/rdskit/copydb/copydbtest"
)

// Preflight finds every broken condition of a copy before it is sent.
func ExampleClient_Preflight() {
	fake := copydbtest.New()
	fake.AddInstance(copydbtest.Instance{ID: "rm-src"})
	fake.AddInstance(copydbtest.Instance{ID: "rm-dst", RegionID: "cn-shanghai", StorageGB: 1})
	fake.AddDatabase("rm-src", copydbtest.Database{Name: "sales", SizeBytes: 2 << 30})
	fake.AddDatabase("rm-dst", copydbtest.Database{Name: "Sales_Copy"})
	client, err := fake.Client()
	if err != nil {
		log.Fatal(err)
	}

	report, err := client.Preflight(context.Background(), &copydb.CopyDatabaseBetweenInstancesRequest{
		DBInstanceID:       "rm-src",
		TargetDBInstanceID: "rm-dst",
		DBNames:            map[string]string{"sales": "sales_copy"},
	})
	for _, v := range report.Violations {
		fmt.Printf("%s: %s\n", v.Condition, v.Detail)
	}
	fmt.Println("region mismatch:", errors.Is(err, copydb.ErrRegionMismatch))
	fmt.Println("name taken:", errors.Is(err, copydb.ErrDatabaseExists))
	fmt.Println("too big:", errors.Is(err, copydb.ErrStorageLimitExceeded))
	// Output:
	// region: source rm-src is in cn-hangzhou, target rm-dst in cn-shanghai: the instances must be in the same region (zones may differ)
	// target-name: target instance rm-dst already has a database "Sales_Copy" (names compare case-insensitively), the target name of "sales"
	// storage: the copy needs 2147483648 bytes (database-sizes), target instance rm-dst has 1073741824 bytes free
	// region mismatch: true
	// name taken: true
	// too big: true
}

// exampleClock is a clock for the fake and the client that moves only when
// the wait sleeps, so the example runs at once.
type exampleClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *exampleClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *exampleClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

// WaitForCopy follows a copy until its databases are Running.
func ExampleClient_WaitForCopy() {
	clock := &exampleClock{now: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)}
	fake := copydbtest.New(copydbtest.WithClock(clock.Now), copydbtest.WithCopyDuration(7*time.Second))
	fake.AddInstance(copydbtest.Instance{ID: "rm-src"})
	fake.AddInstance(copydbtest.Instance{ID: "rm-dst"})
	fake.AddDatabase("rm-src", copydbtest.Database{Name: "sales", SizeBytes: 1 << 30})
	client, err := fake.Client()
	if err != nil {
		log.Fatal(err)
	}
	req := &copydb.CopyDatabaseBetweenInstancesRequest{
		DBInstanceID:       "rm-src",
		TargetDBInstanceID: "rm-dst",
		DBNames:            map[string]string{"sales": "sales_copy"},
	}
	ctx := context.Background()
	if _, err := client.CopyDatabaseBetweenInstances(ctx, req); err != nil {
		log.Fatal(err)
	}

	err = client.WaitForCopy(ctx, req,
		copydb.WithWaitTimeout(10*time.Minute),
		copydb.WithPollDelay(3*time.Second, 3*time.Second),
		copydb.WithSleep(clock.Sleep), // a real program leaves the default: a timer
		copydb.WithProgress(func(p copydb.WaitProgress) {
			for _, d := range p.Databases {
				fmt.Printf("poll %d after %v: %s is %s\n", p.Poll, p.Elapsed, d.Target, d.Status)
			}
		}))
	fmt.Println("done:", err == nil)
	// Output:
	// poll 1 after 0s: sales_copy is Creating
	// poll 2 after 3s: sales_copy is Creating
	// poll 3 after 6s: sales_copy is Creating
	// poll 4 after 9s: sales_copy is Running
	// done: true
}

// Copy checks, sends and follows a copy in one call; after a lost answer it
// reconciles instead of copying twice.
func ExampleClient_Copy() {
	fake := copydbtest.New(copydbtest.WithCopyDuration(0))
	fake.AddInstance(copydbtest.Instance{ID: "rm-src"})
	fake.AddInstance(copydbtest.Instance{ID: "rm-dst"})
	fake.AddDatabase("rm-src", copydbtest.Database{Name: "sales", SizeBytes: 1 << 30})
	// The service runs the copy, but the connection drops before the answer.
	fake.InjectFault(copydbtest.Fault{Action: copydb.ActionCopyDatabaseBetweenInstances, Drop: true, AfterExecute: true})
	client, err := fake.Client()
	if err != nil {
		log.Fatal(err)
	}

	res, err := client.Copy(context.Background(), &copydb.CopyDatabaseBetweenInstancesRequest{
		DBInstanceID:       "rm-src",
		TargetDBInstanceID: "rm-dst",
		DBNames:            map[string]string{"sales": "sales_copy"},
	},
		copydb.WithReconcileGrace(3, 0), // a real program keeps the default spacing
		copydb.WithWaitForCopy(copydb.WithWaitTimeout(time.Minute)))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("path:", res.Path)
	fmt.Println("sent:", res.Attempts, "time(s); copies accepted:", len(fake.Copies()))
	fmt.Println("outcome was unknown:", errors.Is(res.Unknown, copydb.ErrOutcomeUnknown))
	for _, db := range fake.Databases("rm-dst") {
		fmt.Println(db.Name, db.Status)
	}
	// Output:
	// path: reconciled-found
	// sent: 1 time(s); copies accepted: 1
	// outcome was unknown: true
	// sales_copy Running
}
