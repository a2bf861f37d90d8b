// Command copydb checks, copies and follows a copy of SQL Server databases
// between two ApsaraDB RDS instances with CopyDatabaseBetweenInstances.
//
// Run without flags, it needs no cloud account: it starts the copydbtest fake
// of the service in this process, seeded with two SQL Server 2016 instances,
// and runs the whole job against it (preflight, copy, wait):
//
//	go run ./examples/copydb
//
// Against the real service:
//
//	export ALIBABA_CLOUD_ACCESS_KEY_ID=... ALIBABA_CLOUD_ACCESS_KEY_SECRET=...
//	go run ./examples/copydb -region cn-hangzhou \
//		-source rm-uf6wjk5xxxxxxx -target rm-ut5ajk3xxxxxxx -db sales -db hr:hr_copy
//
// Run it with -h for every flag and the exit codes: 0 done, 1 the service
// refused or failed, 2 bad usage or invalid input (nothing sent), 3 preflight
// found violations (nothing sent), 4 outcome unknown after reconciliation,
// 130 interrupted.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	go func() {
		// After the first Ctrl-C, a second one kills the process at once.
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
