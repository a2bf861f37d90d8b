package bench_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/rdskit/copydb"
	"github.com/rdskit/copydb/bench/internal/fake"
)

func init() {
	contenders = append([]contender{{"copydb", newCopydb}}, contenders...)
}

// newCopydb returns copydb with its defaults (retries on, with nothing to
// retry), aimed at the endpoint, or at rt through an *http.Client as the floor
// and the SDK use it.
func newCopydb(b *testing.B, endpoint string, rt http.RoundTripper) callFunc {
	opts := []copydb.Option{
		copydb.WithAccessKey(fake.AccessKeyID, fake.AccessKeySecret),
		copydb.WithRegion(fake.Region),
		copydb.WithEndpoint(endpoint),
	}
	if rt != nil {
		opts = append(opts, copydb.WithHTTPClient(&http.Client{Transport: rt}))
	}
	c, err := copydb.New(opts...)
	if err != nil {
		b.Fatal(err)
	}
	req := &copydb.CopyDatabaseBetweenInstancesRequest{
		DBInstanceID:       fake.SourceInstance,
		TargetDBInstanceID: fake.TargetInstance,
		DBNames:            fake.DBNames(),
		SyncUserPrivilege:  fake.SyncUserPrivilege == "YES",
	}
	return func(ctx context.Context) (string, error) {
		resp, err := c.CopyDatabaseBetweenInstances(ctx, req)
		if err != nil {
			return "", err
		}
		return resp.RequestID, nil
	}
}
