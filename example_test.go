package copydb_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rdskit/copydb"
	"github.com/rdskit/copydb/copydbtest"
)

// newFake returns a fake service with two SQL Server 2016 instances, the
// source holding a 1 GiB database "sales" and a 3 GiB "archive", the
// destination 2 GiB of storage.
func newFake() *copydbtest.Fake {
	f := copydbtest.New(copydbtest.WithCopyDuration(0))
	f.AddInstance(copydbtest.Instance{ID: "rm-uf6wjk5xxxxxxx"})
	f.AddInstance(copydbtest.Instance{ID: "rm-ut5ajk3xxxxxxx", StorageGB: 2})
	f.AddDatabase("rm-uf6wjk5xxxxxxx", copydbtest.Database{Name: "sales", SizeBytes: 1 << 30})
	f.AddDatabase("rm-uf6wjk5xxxxxxx", copydbtest.Database{Name: "archive", SizeBytes: 3 << 30})
	return f
}

// A client for the service needs a region (or an endpoint) and credentials.
// Here it is pointed at the in-memory fake; against the real service, leave
// out WithEndpoint and WithHTTPClient.
func ExampleNew() {
	fake := newFake()
	client, err := copydb.New(
		copydb.WithRegion("cn-hangzhou"),
		copydb.WithAccessKey(copydbtest.AccessKeyID, copydbtest.AccessKeySecret),
		copydb.WithEndpoint("http://127.0.0.1/"), // the fake answers in memory, no socket is opened
		copydb.WithHTTPClient(fake.HTTPClient()),
		copydb.WithRetry(copydb.RetryPolicy{MaxAttempts: 3, MinBackoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second}),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(client.Region(), client.Endpoint())
	fmt.Printf("%v\n", copydb.Credentials{AccessKeyID: "LTAI5tExample", AccessKeySecret: "never printed"})
	// Output:
	// cn-hangzhou http://127.0.0.1/
	// {AccessKeyID:LTAI**** AccessKeySecret:[redacted] SecurityToken:}
}

func ExampleClient_CopyDatabaseBetweenInstances() {
	fake := newFake()
	client, err := fake.Client()
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := client.CopyDatabaseBetweenInstances(context.Background(), &copydb.CopyDatabaseBetweenInstancesRequest{
		DBInstanceID:       "rm-uf6wjk5xxxxxxx",
		TargetDBInstanceID: "rm-ut5ajk3xxxxxxx",
		DBNames:            map[string]string{"sales": "sales_copy"},
		SyncUserPrivilege:  true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("accepted:", resp.RequestID != "")
	for _, db := range fake.Databases("rm-ut5ajk3xxxxxxx") {
		fmt.Println(db.Name, db.Status)
	}
	// Output:
	// accepted: true
	// sales_copy Running
}

// Errors are matched with errors.Is against the package's sentinels, and
// errors.As reaches what the service said.
func ExampleErrStorageLimitExceeded() {
	client, err := newFake().Client()
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = client.CopyDatabaseBetweenInstances(context.Background(), &copydb.CopyDatabaseBetweenInstancesRequest{
		DBInstanceID:       "rm-uf6wjk5xxxxxxx",
		TargetDBInstanceID: "rm-ut5ajk3xxxxxxx",
		DBNames:            map[string]string{"archive": "archive"}, // 3 GiB into 2 GiB
	})
	switch {
	case errors.Is(err, copydb.ErrStorageLimitExceeded):
		var apiErr *copydb.APIError
		errors.As(err, &apiErr)
		fmt.Println("too big:", apiErr.StatusCode, apiErr.Code)
	case errors.Is(err, copydb.ErrOutcomeUnknown):
		fmt.Println("may have started: check the destination before sending again")
	case err != nil:
		fmt.Println(err)
	}
	// Output:
	// too big: 403 StorageLimitExceeded
}

// Validation reports every problem of a request at once, naming the wire
// field, and nothing is sent.
func ExampleValidationErrors() {
	req := &copydb.CopyDatabaseBetweenInstancesRequest{
		DBInstanceID:       "rm-uf6wjk5xxxxxxx",
		TargetDBInstanceID: "rm-uf6wjk5xxxxxxx",
		DBNames:            map[string]string{"a": "x", "b": "X"},
	}
	err := req.Validate()
	fmt.Println(errors.Is(err, copydb.ErrInvalidRequest))
	for _, ve := range copydb.ValidationErrors(err) {
		fmt.Println(ve)
	}
	// Output:
	// true
	// TargetDBInstanceId: must differ from DBInstanceId
	// DbNames: sources "a" and "b" are both mapped to destination "X"
}
