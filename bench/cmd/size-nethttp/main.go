// Command size-nethttp makes one signed CopyDatabaseBetweenInstances call with
// nothing but net/http and a hand-written signer. It exists to be measured:
// run.sh compares its stripped size with size-copydb and size-sdk.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"

	"github.com/rdskit/copydb/bench/internal/floor"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:9/", "service `URL`")
	flag.Parse()
	c := &floor.Client{HTTP: &http.Client{}, Endpoint: *endpoint, KeyID: "testid", Secret: "testsecret", Region: "cn-hangzhou"}
	id, err := c.Call(context.Background(), floor.Request{
		DBInstanceID:       "rm-source",
		TargetDBInstanceID: "rm-target",
		DBNamesJSON:        `{"db1":"db1_copy"}`,
		SyncUserPrivilege:  "YES",
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(id)
}
