package copydb

import (
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRequestParams(t *testing.T) {
	t.Parallel()
	east := time.FixedZone("UTC-5", -5*3600)
	tests := []struct {
		name string
		req  CopyDatabaseBetweenInstancesRequest
		want url.Values
	}{
		{
			name: "minimal",
			req:  CopyDatabaseBetweenInstancesRequest{DBInstanceID: "rm-a", TargetDBInstanceID: "rm-b", DBNames: map[string]string{"test1": "test2"}},
			want: url.Values{"DBInstanceId": {"rm-a"}, "TargetDBInstanceId": {"rm-b"}, "DbNames": {`{"test1":"test2"}`}, "SyncUserPrivilege": {"NO"}},
		},
		{
			name: "everything, names sorted, no HTML escaping, time in UTC",
			req: CopyDatabaseBetweenInstancesRequest{
				DBInstanceID: "rm-a", TargetDBInstanceID: "rm-b",
				DBNames:     map[string]string{"z<&>": "z", "a b": "中文"},
				RestoreTime: time.Date(2011, 6, 11, 11, 0, 0, 0, east), SyncUserPrivilege: true,
			},
			want: url.Values{
				"DBInstanceId": {"rm-a"}, "TargetDBInstanceId": {"rm-b"},
				"DbNames":     {`{"a b":"中文","z<&>":"z"}`},
				"RestoreTime": {"2011-06-11T16:00:00Z"}, "SyncUserPrivilege": {"YES"},
			},
		},
		{
			name: "backup",
			req:  CopyDatabaseBetweenInstancesRequest{DBInstanceID: "rm-a", TargetDBInstanceID: "rm-b", DBNames: map[string]string{"x": "x"}, BackupID: "1065238746521"},
			want: url.Values{"DBInstanceId": {"rm-a"}, "TargetDBInstanceId": {"rm-b"}, "DbNames": {`{"x":"x"}`}, "BackupId": {"1065238746521"}, "SyncUserPrivilege": {"NO"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.req.params()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
		})
	}
}
