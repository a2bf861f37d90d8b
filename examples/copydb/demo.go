package main

import (
	"log/slog"
	"time"

	"github.com/rdskit/copydb"
	"github.com/rdskit/copydb/copydbtest"
)

// The demo's instances and databases, in the fake's catalogue.
const (
	demoSource = "rm-demo-source"
	demoTarget = "rm-demo-target"
	// demoBackupID is a backup set of the source that holds every demo
	// database, for trying -backup-id in the demo.
	demoBackupID = "1000000001"
	// demoDefaultCopyDuration is how long the demo's copy takes, in real
	// time: long enough to see progress.
	demoDefaultCopyDuration = 5 * time.Second
)

const (
	mib = int64(1) << 20
	gib = int64(1) << 30
)

// demoDatabases are the source's databases; all of them are copied.
var demoDatabases = []copydbtest.Database{
	{Name: "sales", SizeBytes: 42 * gib / 10},
	{Name: "inventory", SizeBytes: 850 * mib},
	{Name: "hr", SizeBytes: 120 * mib},
}

func demoDBNames() map[string]string {
	names := make(map[string]string, len(demoDatabases))
	for _, d := range demoDatabases {
		names[d.Name] = d.Name
	}
	return names
}

// newDemoFake returns the fake service of the demo: two SQL Server 2016
// instances of one region (in different zones, which the copy allows), the
// source with the demo databases and a backup of them, the target with a
// database of its own.
// Tests add options, such as credentials.
func newDemoFake(now func() time.Time, copyDuration time.Duration, opts ...copydbtest.Option) *copydbtest.Fake {
	f := copydbtest.New(append([]copydbtest.Option{copydbtest.WithClock(now), copydbtest.WithCopyDuration(copyDuration)}, opts...)...)
	f.AddInstance(copydbtest.Instance{
		ID: demoSource, EngineVersion: "2016_std_ha", RegionID: "cn-hangzhou", ZoneID: "cn-hangzhou-h",
		NetworkType: "VPC", StorageGB: 100, BackupRetentionDays: 7,
	})
	f.AddInstance(copydbtest.Instance{
		ID: demoTarget, EngineVersion: "2016_std_ha", RegionID: "cn-hangzhou", ZoneID: "cn-hangzhou-i",
		NetworkType: "VPC", StorageGB: 50, BackupRetentionDays: 7,
	})
	names := make([]string, 0, len(demoDatabases))
	for _, d := range demoDatabases {
		f.AddDatabase(demoSource, d)
		names = append(names, d.Name)
	}
	f.AddDatabase(demoTarget, copydbtest.Database{Name: "crm", SizeBytes: 2 * gib})
	t := now().UTC().Truncate(time.Hour)
	f.AddBackup(demoSource, copydbtest.Backup{
		ID: demoBackupID, Start: t.Add(-26 * time.Hour), End: t.Add(-25 * time.Hour), Databases: names, Available: true,
	})
	return f
}

// demoClient starts the demo's fake and returns a client wired to it in
// memory, with the fake's own (obviously fake) credentials.
func (j *job) demoClient(logger *slog.Logger) (*copydb.Client, error) {
	d := j.env.demoCopyDuration
	if d == 0 {
		d = demoDefaultCopyDuration
	}
	now := j.env.now
	if now == nil {
		now = time.Now
	}
	f := newDemoFake(now, d)
	var opts []copydb.Option
	if logger != nil {
		opts = append(opts, copydb.WithLogger(logger))
	}
	c, err := f.Client(opts...)
	if err != nil {
		return nil, err
	}
	j.res.Region = c.Region()
	return c, nil
}
