package copydb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// scriptedDescribe is a client whose transport answers each request with
// answer(n, query), n counting from 1; the queries are recorded.
type scriptedDescribe struct {
	mu      sync.Mutex
	queries []url.Values
}

func newScriptedClient(t *testing.T, answer func(n int, q url.Values) (int, string)) (*Client, *scriptedDescribe) {
	t.Helper()
	s := &scriptedDescribe{}
	hc := HTTPClientFunc(func(r *http.Request) (*http.Response, error) {
		q := r.URL.Query()
		s.mu.Lock()
		s.queries = append(s.queries, q)
		n := len(s.queries)
		s.mu.Unlock()
		status, body := answer(n, q)
		ct := "application/json"
		if strings.HasPrefix(body, "<") {
			ct = "text/xml"
		}
		return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {ct}},
			Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	})
	c, err := New(WithAccessKey("LTAItestkey0001", "test-secret"), WithRegion("cn-hangzhou"), WithHTTPClient(hc),
		WithRetry(RetryPolicy{MaxAttempts: 3}))
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

func (s *scriptedDescribe) all() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.queries...)
}

func TestDescribeDBInstanceAttributeDecoding(t *testing.T) {
	t.Parallel()
	want := &DBInstanceAttribute{
		DBInstanceID: "rm-a", Engine: "SQLServer", EngineVersion: "2016_std_ha", RegionID: "cn-hangzhou",
		ZoneID: "cn-hangzhou-h", NetworkType: "VPC", StorageBytes: 20 << 30, UsedBytes: 1234, Status: "Running",
		LockMode: "Unlock", Category: "HighAvailability", DBInstanceType: "Primary", DBInstanceClass: "mssql.x4.medium.s2",
	}
	const fields = `"DBInstanceId":"rm-a","Engine":"SQLServer","EngineVersion":"2016_std_ha","RegionId":"cn-hangzhou",` +
		`"ZoneId":"cn-hangzhou-h","InstanceNetworkType":"VPC","DBInstanceStatus":"Running","LockMode":"Unlock",` +
		`"Category":"HighAvailability","DBInstanceType":"Primary","DBInstanceClass":"mssql.x4.medium.s2"`
	const xmlFields = `<DBInstanceId>rm-a</DBInstanceId><Engine>SQLServer</Engine><EngineVersion>2016_std_ha</EngineVersion>` +
		`<RegionId>cn-hangzhou</RegionId><ZoneId>cn-hangzhou-h</ZoneId><InstanceNetworkType>VPC</InstanceNetworkType>` +
		`<DBInstanceStatus>Running</DBInstanceStatus><LockMode>Unlock</LockMode><Category>HighAvailability</Category>` +
		`<DBInstanceType>Primary</DBInstanceType><DBInstanceClass>mssql.x4.medium.s2</DBInstanceClass>`
	tests := []struct {
		name string
		body string
		want *DBInstanceAttribute
		is   error
	}{
		{"json, used as string", `{"RequestId":"R","Items":{"DBInstanceAttribute":[{` + fields + `,"DBInstanceStorage":20,"DBInstanceDiskUsed":"1234"}]}}`, want, nil},
		{"json, numbers as strings and numbers", `{"RequestId":"R","Items":{"DBInstanceAttribute":[{` + fields + `,"DBInstanceStorage":"20","DBInstanceDiskUsed":1234}]}}`, want, nil},
		{"xml", `<DescribeDBInstanceAttributeResponse><RequestId>R</RequestId><Items><DBInstanceAttribute>` + xmlFields +
			`<DBInstanceStorage>20</DBInstanceStorage><DBInstanceDiskUsed>1234</DBInstanceDiskUsed></DBInstanceAttribute></Items></DescribeDBInstanceAttributeResponse>`, want, nil},
		{"sizes missing", `{"RequestId":"R","Items":{"DBInstanceAttribute":[{` + fields + `}]}}`,
			func() *DBInstanceAttribute { a := *want; a.StorageBytes, a.UsedBytes = -1, -1; return &a }(), nil},
		{"no items", `{"RequestId":"R","Items":{"DBInstanceAttribute":[]}}`, nil, ErrInstanceNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := newScriptedClient(t, func(int, url.Values) (int, string) { return 200, tt.body })
			got, err := c.DescribeDBInstanceAttribute(context.Background(), "rm-a")
			if tt.is != nil {
				if !errors.Is(err, tt.is) {
					t.Fatalf("err = %v, want %v", err, tt.is)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if a := got; a.StorageBytes > 0 && a.FreeBytes() != 20<<30-1234 {
				t.Errorf("FreeBytes = %d", a.FreeBytes())
			}
		})
	}
}

func TestDescribeDatabasesSizes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want []int64
	}{
		{"property list", `{"RequestId":"R","Databases":{"Database":[` +
			`{"DBName":"a","RuntimeInfo":{"RuntimeDbProperty":[{"PropertyName":"Other","PropertyValue":"9"},{"PropertyName":"TotalSizeBytes","PropertyValue":"42"}]}},` +
			`{"DBName":"b","RuntimeInfo":{"RuntimeDbProperty":[{"PropertyName":"TotalSizeBytes","PropertyValue":7}]}}]}}`, []int64{42, 7}},
		{"flat dictionary", `{"RequestId":"R","Databases":{"Database":[{"DBName":"a","RuntimeInfo":{"TotalSizeBytes":"42"}}]}}`, []int64{42}},
		{"list of flat dictionaries", `{"RequestId":"R","Databases":{"Database":[{"DBName":"a","RuntimeInfo":{"RuntimeDbProperty":[{"TotalSizeBytes":"42"}]}}]}}`, []int64{42}},
		{"unknown shapes", `{"RequestId":"R","Databases":{"Database":[{"DBName":"a"},{"DBName":"b","RuntimeInfo":[]},` +
			`{"DBName":"c","RuntimeInfo":{"RuntimeDbProperty":"x"}},{"DBName":"d","RuntimeInfo":{"TotalSizeBytes":"-5"}}]}}`, []int64{-1, -1, -1, -1}},
		{"xml", `<DescribeDatabasesResponse><RequestId>R</RequestId><Databases>` +
			`<Database><DBName>a</DBName><RuntimeInfo><RuntimeDbProperty><PropertyName>TotalSizeBytes</PropertyName><PropertyValue>42</PropertyValue></RuntimeDbProperty></RuntimeInfo></Database>` +
			`<Database><DBName>b</DBName></Database></Databases></DescribeDatabasesResponse>`, []int64{42, -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := newScriptedClient(t, func(int, url.Values) (int, string) { return 200, tt.body })
			dbs, err := c.DescribeDatabases(context.Background(), "rm-a")
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, d := range dbs {
				got = append(got, d.SizeBytes)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("sizes (-want +got):\n%s", diff)
			}
		})
	}
}

// databasesPage answers a DescribeDatabases page of n databases.
func databasesPage(first, n int) string {
	var b strings.Builder
	b.WriteString(`{"RequestId":"R","Databases":{"Database":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"DBName":"db%d","DBStatus":"Running","TDEStatus":"Disabled"}`, first+i)
	}
	b.WriteString(`]}}`)
	return b.String()
}

func TestDescribeDatabasesPaging(t *testing.T) {
	t.Parallel()
	c, s := newScriptedClient(t, func(_ int, q url.Values) (int, string) {
		page, _ := strconv.Atoi(q.Get("PageNumber"))
		return 200, databasesPage((page-1)*100, min(100, 250-(page-1)*100))
	})
	dbs, err := c.DescribeDatabases(context.Background(), "rm-a")
	if err != nil {
		t.Fatal(err)
	}
	if len(dbs) != 250 || dbs[249].Name != "db249" {
		t.Fatalf("got %d databases", len(dbs))
	}
	var pages []string
	for _, q := range s.all() {
		pages = append(pages, q.Get("Action")+" "+q.Get("DBInstanceId")+" "+q.Get("PageSize")+" "+q.Get("PageNumber"))
	}
	want := []string{"DescribeDatabases rm-a 100 1", "DescribeDatabases rm-a 100 2", "DescribeDatabases rm-a 100 3"}
	if diff := cmp.Diff(want, pages); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestDescribeDatabasesPagingEnds(t *testing.T) {
	t.Parallel()
	full := databasesPage(0, 100)
	c, s := newScriptedClient(t, func(int, url.Values) (int, string) { return 200, full })
	if _, err := c.DescribeDatabases(context.Background(), "rm-a"); !errors.Is(err, errTooManyPages) {
		t.Fatalf("err = %v, want errTooManyPages", err)
	}
	if n := len(s.all()); n != maxDescribePages {
		t.Errorf("%d requests, want %d", n, maxDescribePages)
	}
}

func TestDescribeRetriesServerErrors(t *testing.T) {
	t.Parallel()
	c, s := newScriptedClient(t, func(n int, _ url.Values) (int, string) {
		if n == 1 {
			return 503, `{"RequestId":"R1","Code":"ServiceUnavailable","Message":"try later"}`
		}
		return 200, `{"RequestId":"R2","BackupRetentionPeriod":"7","LogBackupRetentionPeriod":7,"EnableBackupLog":1}`
	})
	p, err := c.DescribeBackupPolicy(context.Background(), "rm-a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&BackupPolicy{BackupRetentionPeriod: 7, LogBackupRetentionPeriod: 7, EnableBackupLog: true}, p); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if n := len(s.all()); n != 2 {
		t.Errorf("%d requests, want 2 (a read is retried after a 503)", n)
	}
}

func TestDescribeBackupsDecoding(t *testing.T) {
	t.Parallel()
	c, s := newScriptedClient(t, func(int, url.Values) (int, string) {
		return 200, `{"RequestId":"R","TotalRecordCount":"1","PageNumber":"1","PageRecordCount":"1","Items":{"Backup":[` +
			`{"BackupId":"1001","DBInstanceId":"rm-a","BackupStatus":"Success","IsAvail":"1","BackupStartTime":"2024-04-29T10:00:00Z",` +
			`"BackupEndTime":"2024-04-29T11:00Z","BackupSize":"2048","BackupDBNames":"sales, hr,","BackupType":"FullBackup",` +
			`"BackupMethod":"Physical","BackupMode":"Automated"}]}}`
	})
	start := time.Date(2024, 4, 20, 8, 30, 59, 0, time.FixedZone("UTC+8", 8*3600))
	got, err := c.DescribeBackups(context.Background(), &DescribeBackupsRequest{DBInstanceID: "rm-a", BackupID: "1001", StartTime: start, EndTime: start.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	want := []Backup{{
		BackupID: "1001", DBInstanceID: "rm-a", Status: "Success", Available: true,
		StartTime: time.Date(2024, 4, 29, 10, 0, 0, 0, time.UTC), EndTime: time.Date(2024, 4, 29, 11, 0, 0, 0, time.UTC),
		SizeBytes: 2048, DBNames: []string{"sales", "hr"}, Type: "FullBackup", Method: "Physical", Mode: "Automated",
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	q := s.all()[0]
	gotQ := []string{q.Get("BackupId"), q.Get("StartTime"), q.Get("EndTime"), q.Get("PageSize"), q.Get("PageNumber")}
	if diff := cmp.Diff([]string{"1001", "2024-04-20T00:30Z", "2024-04-20T01:30Z", "100", "1"}, gotQ); diff != "" {
		t.Errorf("parameters (-want +got):\n%s", diff)
	}
	if !got[0].Usable() {
		t.Error("Usable() = false")
	}
}

func TestDescribeRefusesBadInputBeforeSending(t *testing.T) {
	t.Parallel()
	c, s := newScriptedClient(t, func(int, url.Values) (int, string) { return 200, `{"RequestId":"R"}` })
	ctx := context.Background()
	calls := map[string]func() error{
		"attribute": func() error { _, err := c.DescribeDBInstanceAttribute(ctx, ""); return err },
		"databases": func() error { _, err := c.DescribeDatabases(ctx, "RM-UPPER"); return err },
		"backups":   func() error { _, err := c.DescribeBackups(ctx, nil); return err },
		"policy":    func() error { _, err := c.DescribeBackupPolicy(ctx, "rm-a?x=1"); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: err = %v, want ErrInvalidRequest", name, err)
		}
	}
	if n := len(s.all()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}

func TestFlexInt(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{`12`: 12, `"12"`: 12, `" 12 "`: 12, `12.0`: 12, `""`: -1, `null`: -1, `"x"`: -1, `-3`: -1, `true`: -1} {
		var f flexInt
		if err := f.UnmarshalJSON([]byte(in)); err != nil || f.value() != want {
			t.Errorf("%s: got %d, %v; want %d", in, f.value(), err, want)
		}
	}
}

func TestPollDelay(t *testing.T) {
	t.Parallel()
	maxJitter := func(n int64) int64 { return n - 1 }
	noJitter := func(int64) int64 { return 0 }
	var got []time.Duration
	for n := 1; n <= 7; n++ {
		got = append(got, pollDelay(n, 2*time.Second, 30*time.Second, maxJitter), pollDelay(n, 2*time.Second, 30*time.Second, noJitter))
	}
	s := time.Second
	want := []time.Duration{2 * s, 2 * s, 4 * s, 2 * s, 8 * s, 4 * s, 16 * s, 8 * s, 30 * s, 15 * s, 30 * s, 15 * s, 30 * s, 15 * s}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
