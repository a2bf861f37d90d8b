package copydb

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var fixedNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func validRequest() *CopyDatabaseBetweenInstancesRequest {
	return &CopyDatabaseBetweenInstancesRequest{
		DBInstanceID:       "rm-uf6wjk5xxxxxxx",
		TargetDBInstanceID: "rm-ut5ajk3xxxxxxx",
		DBNames:            map[string]string{"test1": "test2"},
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	type fe struct{ Field, Reason string }
	shanghai := time.FixedZone("UTC+8", 8*3600)
	tests := []struct {
		name   string
		mutate func(r *CopyDatabaseBetweenInstancesRequest)
		want   []fe
	}{
		{"valid", func(r *CopyDatabaseBetweenInstancesRequest) {}, nil},
		{"valid with backup", func(r *CopyDatabaseBetweenInstancesRequest) { r.BackupID = "1065238746521" }, nil},
		{"valid restore time in another zone", func(r *CopyDatabaseBetweenInstancesRequest) {
			r.RestoreTime = time.Date(2026, 11, 28, 19, 0, 0, 0, shanghai) // 11:00 UTC
		}, nil},
		{"empty ids", func(r *CopyDatabaseBetweenInstancesRequest) { r.DBInstanceID, r.TargetDBInstanceID = "", "" }, []fe{
			{"DBInstanceId", "is required"}, {"TargetDBInstanceId", "is required"}}},
		{"same instance, other case", func(r *CopyDatabaseBetweenInstancesRequest) {
			r.TargetDBInstanceID = "rm-uf6wjk5xxxxxxx"
		}, []fe{{"TargetDBInstanceId", "must differ from DBInstanceId"}}},
		{"bad characters", func(r *CopyDatabaseBetweenInstancesRequest) { r.DBInstanceID = "rm-UF6 x" }, []fe{
			{"DBInstanceId", `"rm-UF6 x" may hold only lower-case letters, digits and '-', like rm-uf6wjk5xxxxxxx`}}},
		{"too long id", func(r *CopyDatabaseBetweenInstancesRequest) { r.TargetDBInstanceID = strings.Repeat("a", 65) }, []fe{
			{"TargetDBInstanceId", "is longer than 64 characters"}}},
		{"no names", func(r *CopyDatabaseBetweenInstancesRequest) { r.DBNames = nil }, []fe{
			{"DbNames", "is required: map at least one source database to a destination name"}}},
		{"empty and long names", func(r *CopyDatabaseBetweenInstancesRequest) {
			r.DBNames = map[string]string{"": "x", "a": strings.Repeat("n", 65)}
		}, []fe{
			{"DbNames", `source name "" is empty`},
			{"DbNames", `destination name "` + strings.Repeat("n", 65) + `" (for source "a") is longer than 64 characters`},
		}},
		{"control characters and spaces", func(r *CopyDatabaseBetweenInstancesRequest) {
			r.DBNames = map[string]string{"a\nb": "ok", "c": " d"}
		}, []fe{
			{"DbNames", "source name \"a\\nb\" contains a control character"},
			{"DbNames", `destination name " d" (for source "c") has leading or trailing white space`},
		}},
		{"two sources to one target", func(r *CopyDatabaseBetweenInstancesRequest) {
			r.DBNames = map[string]string{"a": "Dst", "b": "dst"}
		}, []fe{{"DbNames", `sources "a" and "b" are both mapped to destination "dst"`}}},
		{"backup and restore time", func(r *CopyDatabaseBetweenInstancesRequest) {
			r.BackupID = "123"
			r.RestoreTime = fixedNow.Add(-time.Hour)
		}, []fe{{"RestoreTime", "must not be set together with BackupId (the service refuses both with ErrorParametersConflict)"}}},
		{"bad backup id", func(r *CopyDatabaseBetweenInstancesRequest) { r.BackupID = "12a" }, []fe{
			{"BackupId", `must be the numeric id of a backup set, as DescribeBackups returns it, got "12a"`}}},
		{"future restore time", func(r *CopyDatabaseBetweenInstancesRequest) { r.RestoreTime = fixedNow.Add(time.Minute) }, []fe{
			{"RestoreTime", "must not be in the future (got 2026-11-28T12:01:00Z, now 2026-11-28T12:00:00Z)"}}},
		{"sub-second restore time", func(r *CopyDatabaseBetweenInstancesRequest) {
			r.RestoreTime = fixedNow.Add(-time.Hour + 500*time.Millisecond)
		}, []fe{{"RestoreTime", "must be whole seconds, the service has no sub-second precision (got 2026-11-28T11:00:00.5Z)"}}},
		{"everything at once", func(r *CopyDatabaseBetweenInstancesRequest) {
			*r = CopyDatabaseBetweenInstancesRequest{BackupID: "x", RestoreTime: fixedNow.Add(time.Hour)}
		}, []fe{
			{"DBInstanceId", "is required"},
			{"TargetDBInstanceId", "is required"},
			{"DbNames", "is required: map at least one source database to a destination name"},
			{"BackupId", `must be the numeric id of a backup set, as DescribeBackups returns it, got "x"`},
			{"RestoreTime", "must not be set together with BackupId (the service refuses both with ErrorParametersConflict)"},
			{"RestoreTime", "must not be in the future (got 2026-11-28T13:00:00Z, now 2026-11-28T12:00:00Z)"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := validRequest()
			tt.mutate(r)
			err := r.validate(fixedNow)
			var got []fe
			for _, ve := range ValidationErrors(err) {
				got = append(got, fe{ve.Field, ve.Reason})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("validation errors (-want +got):\n%s", diff)
			}
			if (err != nil) != (len(tt.want) > 0) {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalidRequest) {
					t.Errorf("errors.Is(err, ErrInvalidRequest) = false")
				}
				var ve *ValidationError
				if !errors.As(err, &ve) || ve.Field != tt.want[0].Field {
					t.Errorf("errors.As gives %v, want field %s", ve, tt.want[0].Field)
				}
			}
		})
	}
}

func TestValidateNil(t *testing.T) {
	t.Parallel()
	var r *CopyDatabaseBetweenInstancesRequest
	if err := r.Validate(); !errors.Is(err, ErrInvalidRequest) || err.Error() != "request: must not be nil" {
		t.Errorf("nil request: %v", err)
	}
}

func FuzzValidate(f *testing.F) {
	f.Add("rm-a", "rm-b", "db", "db2", "", int64(0), int64(0), false)
	f.Add("", "", "", "", "x", int64(-1), int64(999), true)
	f.Add("rm-A", "rm-a", "\x00", "\xff", "123", int64(1<<62), int64(1), true)
	f.Fuzz(func(t *testing.T, src, dst, from, to, backup string, sec, nsec int64, sync bool) {
		r := &CopyDatabaseBetweenInstancesRequest{
			DBInstanceID: src, TargetDBInstanceID: dst, DBNames: map[string]string{from: to},
			BackupID: backup, SyncUserPrivilege: sync,
		}
		if sec != 0 {
			r.RestoreTime = time.Unix(sec, nsec)
		}
		err := r.validate(fixedNow)
		for _, ve := range ValidationErrors(err) {
			if ve.Field == "" || ve.Reason == "" {
				t.Fatalf("empty field or reason: %#v", ve)
			}
		}
		if err == nil {
			if _, perr := r.params(); perr != nil {
				t.Fatalf("valid request does not encode: %v", perr)
			}
		}
	})
}
