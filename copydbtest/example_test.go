package copydbtest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rdskit/copydb"
	"github.com/rdskit/copydb/copydbtest"
)

// Example copies a database between two fake instances, follows the copy
// from Creating to Running on the fake's clock, and shows a refused copy.
func Example() {
	var mu sync.Mutex
	now := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }

	f := copydbtest.New(copydbtest.WithClock(clock), copydbtest.WithCopyDuration(5*time.Second))
	f.AddInstance(copydbtest.Instance{ID: "rm-src"})
	f.AddInstance(copydbtest.Instance{ID: "rm-dst", StorageGB: 2})
	f.AddDatabase("rm-src", copydbtest.Database{Name: "sales", SizeBytes: 1 << 30})
	f.AddDatabase("rm-src", copydbtest.Database{Name: "archive", SizeBytes: 3 << 30})

	client, err := f.Client()
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	resp, err := client.CopyDatabaseBetweenInstances(ctx, &copydb.CopyDatabaseBetweenInstancesRequest{
		DBInstanceID:       "rm-src",
		TargetDBInstanceID: "rm-dst",
		DBNames:            map[string]string{"sales": "sales_copy"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("copy accepted into", resp.DBInstanceID)
	fmt.Println(f.Databases("rm-dst"))

	mu.Lock()
	now = now.Add(5 * time.Second)
	mu.Unlock()
	fmt.Println(f.Databases("rm-dst"))

	_, err = client.CopyDatabaseBetweenInstances(ctx, &copydb.CopyDatabaseBetweenInstancesRequest{
		DBInstanceID:       "rm-src",
		TargetDBInstanceID: "rm-dst",
		DBNames:            map[string]string{"archive": "archive_copy"},
	})
	var apiErr *copydb.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code, errors.Is(err, copydb.ErrStorageLimitExceeded))
	}
	fmt.Println(len(f.Copies()), "copy accepted,", len(f.Requests()), "requests received")
	// Output:
	// copy accepted into rm-dst
	// [{sales_copy Creating 1073741824 false}]
	// [{sales_copy Running 1073741824 false}]
	// 403 StorageLimitExceeded true
	// 1 copy accepted, 2 requests received
}
