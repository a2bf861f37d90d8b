// Command size-sdk makes one CopyDatabaseBetweenInstances call with the
// official SDK. It exists to be measured: run.sh compares its stripped size
// with size-copydb and size-nethttp.
package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/rds"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:9/", "service `URL`")
	flag.Parse()
	u, err := url.Parse(*endpoint)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	c, err := rds.NewClientWithAccessKey("cn-hangzhou", "testid", "testsecret")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	c.Domain = u.Host
	req := rds.CreateCopyDatabaseBetweenInstancesRequest()
	req.Scheme = u.Scheme
	req.DBInstanceId = "rm-source"
	req.TargetDBInstanceId = "rm-target"
	req.DbNames = `{"db1":"db1_copy"}`
	req.SyncUserPrivilege = "YES"
	resp, err := c.CopyDatabaseBetweenInstances(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(resp.RequestId)
}
