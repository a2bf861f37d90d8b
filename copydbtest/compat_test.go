package copydbtest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rdskit/copydb"
)

// TestClientDecodesDescribes checks that the copydb client reads the fake's
// describe documents, in both formats, with the sizes the fake reports.
func TestClientDecodesDescribes(t *testing.T) {
	t.Parallel()
	for _, format := range []copydb.Format{copydb.FormatJSON, copydb.FormatXML} {
		t.Run(string(format), func(t *testing.T) {
			t.Parallel()
			f, _ := newFake(t)
			c := client(t, f, copydb.WithFormat(format))
			ctx := context.Background()
			attr, err := c.DescribeDBInstanceAttribute(ctx, "rm-dst")
			if err != nil {
				t.Fatal(err)
			}
			if attr.StorageBytes != 10<<30 || attr.UsedBytes != 1<<30 || attr.Status != "Running" || attr.NetworkType != "VPC" {
				t.Errorf("attribute = %+v", attr)
			}
			dbs, err := c.DescribeDatabases(ctx, "rm-src")
			if err != nil {
				t.Fatal(err)
			}
			var sizes []int64
			for _, d := range dbs {
				sizes = append(sizes, d.SizeBytes)
			}
			if diff := cmp.Diff([]int64{2 << 30, 1 << 30, 1 << 20}, sizes); diff != "" {
				t.Errorf("database sizes (-want +got):\n%s", diff)
			}
			backups, err := c.DescribeBackups(ctx, &copydb.DescribeBackupsRequest{DBInstanceID: "rm-src"})
			if err != nil {
				t.Fatal(err)
			}
			if len(backups) != 1 || backups[0].BackupID != "100001" || !backups[0].Available ||
				!backups[0].EndTime.Equal(t0.Add(-25*time.Hour)) || backups[0].SizeBytes != 3<<30 {
				t.Errorf("backups = %+v", backups)
			}
			policy, err := c.DescribeBackupPolicy(ctx, "rm-src")
			if err != nil {
				t.Fatal(err)
			}
			if policy.BackupRetentionPeriod != 7 || !policy.EnableBackupLog {
				t.Errorf("policy = %+v", policy)
			}
		})
	}
}
