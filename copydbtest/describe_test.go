package copydbtest

import (
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestDescribeJSON checks the JSON documents of the describe actions.
func TestDescribeJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		action string
		op     map[string]string
		want   map[string]any
	}{
		{"DescribeDBInstanceAttribute", "DescribeDBInstanceAttribute", map[string]string{"DBInstanceId": "rm-dst"},
			map[string]any{"Items": map[string]any{"DBInstanceAttribute": []any{map[string]any{
				"DBInstanceId": "rm-dst", "Engine": "SQLServer", "EngineVersion": "2016_std_ha",
				"RegionId": "cn-hangzhou", "ZoneId": "cn-hangzhou-h", "InstanceNetworkType": "VPC",
				"DBInstanceStorage": 10.0, "DBInstanceDiskUsed": "1073741824", "DBInstanceStatus": "Running",
				"LockMode": "Unlock", "Category": "HighAvailability", "DBInstanceType": "Primary",
				"DBInstanceClass": "mssql.x4.medium.s2",
			}}}}},
		{"DescribeDatabases page 2 of size 1", "DescribeDatabases", map[string]string{"DBInstanceId": "rm-src", "PageSize": "1", "PageNumber": "2"},
			map[string]any{"Databases": map[string]any{"Database": []any{map[string]any{
				"DBName": "sales", "DBStatus": "Running", "Engine": "SQLServer", "TDEStatus": "Disabled",
				"CharacterSetName": "Chinese_PRC_CI_AS", "DBInstanceId": "rm-src", "DBDescription": "",
				"PageNumber": 2.0, "PageSize": 1.0, "TotalCount": 3.0,
				"RuntimeInfo": map[string]any{"RuntimeDbProperty": []any{
					map[string]any{"PropertyName": "TotalSizeBytes", "PropertyValue": "1073741824"},
				}},
			}}}}},
		{"DescribeDatabases by name, TDE", "DescribeDatabases", map[string]string{"DBInstanceId": "rm-src", "DBName": "secret"},
			map[string]any{"Databases": map[string]any{"Database": []any{map[string]any{
				"DBName": "secret", "DBStatus": "Running", "Engine": "SQLServer", "TDEStatus": "Enabled",
				"CharacterSetName": "Chinese_PRC_CI_AS", "DBInstanceId": "rm-src", "DBDescription": "",
				"PageNumber": 1.0, "PageSize": 30.0, "TotalCount": 1.0,
				"RuntimeInfo": map[string]any{"RuntimeDbProperty": []any{
					map[string]any{"PropertyName": "TotalSizeBytes", "PropertyValue": "1048576"},
				}},
			}}}}},
		{"DescribeDatabases past the last page", "DescribeDatabases", map[string]string{"DBInstanceId": "rm-src", "PageNumber": "2"},
			map[string]any{"Databases": map[string]any{"Database": []any{}}}},
		{"DescribeBackups", "DescribeBackups", map[string]string{"DBInstanceId": "rm-src", "StartTime": "2025-02-27T00:00Z", "EndTime": "2025-03-01T10:00Z"},
			map[string]any{"TotalRecordCount": "1", "PageNumber": "1", "PageRecordCount": "1",
				"Items": map[string]any{"Backup": []any{map[string]any{
					"BackupId": "100001", "DBInstanceId": "rm-src", "BackupStatus": "Success", "IsAvail": 1.0,
					"BackupStartTime": "2025-02-28T08:00:00Z", "BackupEndTime": "2025-02-28T09:00:00Z",
					"BackupSize": float64(3 << 30), "BackupDBNames": "sales,hr", "BackupType": "FullBackup",
					"BackupMethod": "Physical", "BackupMode": "Automated",
				}}}}},
		{"DescribeBackups outside the window", "DescribeBackups", map[string]string{"DBInstanceId": "rm-src", "StartTime": "2025-03-01T00:00Z"},
			map[string]any{"TotalRecordCount": "0", "PageNumber": "1", "PageRecordCount": "0", "Items": map[string]any{"Backup": []any{}}}},
		{"DescribeBackupPolicy", "DescribeBackupPolicy", map[string]string{"DBInstanceId": "rm-src"},
			map[string]any{"BackupRetentionPeriod": 7.0, "LogBackupRetentionPeriod": 7.0, "EnableBackupLog": "1",
				"PreferredBackupTime": "00:00Z-01:00Z", "PreferredBackupPeriod": "Monday,Wednesday,Friday"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, clk := newFake(t)
			status, body := rpc(t, f, clk, tc.action, tc.op)
			if status != http.StatusOK {
				t.Fatalf("status %d: %v", status, body)
			}
			if id, _ := body["RequestId"].(string); len(id) != 36 {
				t.Errorf("RequestId = %q, want a UUID", id)
			}
			delete(body, "RequestId")
			if diff := cmp.Diff(tc.want, body); diff != "" {
				t.Errorf("document (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDescribeErrors checks the describe actions' parameter errors.
func TestDescribeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, action string
		op           map[string]string
		wantStatus   int
		wantCode     string
	}{
		{"attribute unknown instance", "DescribeDBInstanceAttribute", map[string]string{"DBInstanceId": "rm-none"}, 400, "InvalidDBInstanceId.NotFound"},
		{"attribute no instance", "DescribeDBInstanceAttribute", nil, 400, "MissingParameter"},
		{"databases page size 0", "DescribeDatabases", map[string]string{"DBInstanceId": "rm-src", "PageSize": "0"}, 400, "InvalidParameter"},
		{"databases page size 101", "DescribeDatabases", map[string]string{"DBInstanceId": "rm-src", "PageSize": "101"}, 400, "InvalidParameter"},
		{"databases page number 0", "DescribeDatabases", map[string]string{"DBInstanceId": "rm-src", "PageNumber": "0"}, 400, "InvalidParameter"},
		{"backups page size 10", "DescribeBackups", map[string]string{"DBInstanceId": "rm-src", "PageSize": "10"}, 400, "InvalidParameter"},
		{"backups bad start time", "DescribeBackups", map[string]string{"DBInstanceId": "rm-src", "StartTime": "2025-03-01T00:00:00Z"}, 400, "InvalidStartTime.Malformed"},
		{"policy unknown instance", "DescribeBackupPolicy", map[string]string{"DBInstanceId": "rm-none"}, 400, "InvalidDBInstanceId.NotFound"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, clk := newFake(t)
			status, body := rpc(t, f, clk, tc.action, tc.op)
			wantCode(t, status, body, tc.wantStatus, tc.wantCode)
		})
	}
}

// TestDescribeXML decodes XML documents into the nesting the service uses.
func TestDescribeXML(t *testing.T) {
	t.Parallel()
	f, clk := newFake(t)
	get := func(action string) []byte {
		v := params(action, clk.Now(), map[string]string{"DBInstanceId": "rm-src"})
		v.Set("Format", "XML")
		return serve(f, "POST", encodeParams(signed("POST", v, AccessKeySecret)), "").Body.Bytes()
	}
	var dbs struct {
		XMLName  xml.Name `xml:"DescribeDatabasesResponse"`
		Database []struct {
			DBName   string
			Property []struct{ PropertyName, PropertyValue string } `xml:"RuntimeInfo>RuntimeDbProperty"`
		} `xml:"Databases>Database"`
	}
	if err := xml.Unmarshal(get("DescribeDatabases"), &dbs); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range dbs.Database {
		names = append(names, d.DBName+"="+d.Property[0].PropertyValue)
	}
	if diff := cmp.Diff([]string{"hr=2147483648", "sales=1073741824", "secret=1048576"}, names); diff != "" {
		t.Errorf("databases (-want +got):\n%s", diff)
	}
	var attr struct {
		XMLName xml.Name `xml:"DescribeDBInstanceAttributeResponse"`
		Items   []struct {
			DBInstanceID      string `xml:"DBInstanceId"`
			DBInstanceStorage int
		} `xml:"Items>DBInstanceAttribute"`
	}
	if err := xml.Unmarshal(get("DescribeDBInstanceAttribute"), &attr); err != nil {
		t.Fatal(err)
	}
	if len(attr.Items) != 1 || attr.Items[0].DBInstanceID != "rm-src" || attr.Items[0].DBInstanceStorage != 100 {
		t.Errorf("attribute = %+v", attr.Items)
	}
	var backups struct {
		XMLName          xml.Name `xml:"DescribeBackupsResponse"`
		TotalRecordCount string
		Backup           []struct{ BackupID string } `xml:"Items>Backup"`
	}
	if err := xml.Unmarshal(get("DescribeBackups"), &backups); err != nil {
		t.Fatal(err)
	}
	if backups.TotalRecordCount != "1" || len(backups.Backup) != 1 {
		t.Errorf("backups = %+v", backups)
	}
}

// TestCatalogue checks the catalogue methods and their defaults.
func TestCatalogue(t *testing.T) {
	t.Parallel()
	f := New(WithClock(func() time.Time { return t0 }))
	if got := f.Databases("rm-none"); got != nil {
		t.Errorf("Databases of an unknown instance = %v, want nil", got)
	}
	f.AddInstance(Instance{ID: "rm-a"})
	f.AddDatabase("rm-a", Database{Name: "b", SizeBytes: 2})
	f.AddDatabase("rm-a", Database{Name: "a", SizeBytes: 1, Status: "Creating"})
	f.AddInstance(Instance{ID: "rm-a", StorageGB: 5}) // replaces attributes, keeps databases
	want := []Database{{Name: "a", Status: "Creating", SizeBytes: 1}, {Name: "b", Status: "Running", SizeBytes: 2}}
	if diff := cmp.Diff(want, f.Databases("rm-a")); diff != "" {
		t.Errorf("databases (-want +got):\n%s", diff)
	}
	f.mu.Lock()
	got := f.instances["rm-a"].Instance
	f.mu.Unlock()
	wantInst := Instance{ID: "rm-a", Engine: "SQLServer", EngineVersion: "2016_std_ha", RegionID: "cn-hangzhou",
		ZoneID: "cn-hangzhou-h", NetworkType: "VPC", Status: "Running", StorageGB: 5, BackupRetentionDays: 7}
	if diff := cmp.Diff(wantInst, got); diff != "" {
		t.Errorf("instance (-want +got):\n%s", diff)
	}
	for _, fn := range []func(){
		func() { f.AddDatabase("rm-none", Database{Name: "x"}) },
		func() { f.AddBackup("rm-none", Backup{ID: "1"}) },
		func() { f.AddInstance(Instance{}) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(r.(string), "copydbtest: ") {
					t.Errorf("recovered %v, want a copydbtest panic", r)
				}
			}()
			fn()
		}()
	}
}
