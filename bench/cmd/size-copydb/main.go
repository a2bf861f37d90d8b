// Command size-copydb makes one CopyDatabaseBetweenInstances call with copydb.
// It exists to be measured: run.sh compares its stripped size with size-sdk
// and size-nethttp.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/rdskit/copydb"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:9/", "service `URL`")
	flag.Parse()
	c, err := copydb.New(
		copydb.WithAccessKey("testid", "testsecret"),
		copydb.WithRegion("cn-hangzhou"),
		copydb.WithEndpoint(*endpoint),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	resp, err := c.CopyDatabaseBetweenInstances(context.Background(), &copydb.CopyDatabaseBetweenInstancesRequest{
		DBInstanceID:       "rm-source",
		TargetDBInstanceID: "rm-target",
		DBNames:            map[string]string{"db1": "db1_copy"},
		SyncUserPrivilege:  true,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(resp.RequestID)
}
