package copydbtest

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// AccessKeyID is the access key id a Fake accepts unless [WithCredentials] is
// given. It is obviously fake and grants nothing anywhere.
const AccessKeyID = "LTAIfakeAccessKeyID01"

// AccessKeySecret is the secret that goes with [AccessKeyID].
const AccessKeySecret = "fakeSecret-do-not-use"

// DefaultCopyDuration is how long an accepted copy stays Creating unless
// [WithCopyDuration] says otherwise: long enough for a demo to show progress.
const DefaultCopyDuration = 3 * time.Second

// Fake emulates the Alibaba Cloud RDS RPC endpoint (API version 2014-08-15)
// for one account. It is an [net/http.Handler]; all its methods are safe for
// concurrent use. Create it with [New].
type Fake struct {
	now                  func() time.Time
	copyDuration         time.Duration
	keys                 []credential
	requireRestoreSource bool

	mu         sync.Mutex
	instances  map[string]*instance
	nonces     map[nonceKey]time.Time
	nonceQueue []nonceEntry
	faults     []*pendingFault
	requests   []Request
	copies     []Copy
}

// credential is one access key pair the fake accepts.
type credential struct {
	id, secret, token string
}

// instance is the fake's state of one RDS instance.
type instance struct {
	Instance
	dbs     map[string]*database
	backups []Backup
}

// database is a database with the time its copy finishes (zero: ready).
type database struct {
	Database
	readyAt time.Time
}

// status returns the database's status as seen at now.
func (d *database) status(now time.Time) string {
	if d.Status == "Creating" && !d.readyAt.IsZero() && !now.Before(d.readyAt) {
		return "Running"
	}
	return d.Status
}

// snapshot returns the database as seen at now.
func (d *database) snapshot(now time.Time) Database {
	db := d.Database
	db.Status = d.status(now)
	return db
}

// Option configures a [Fake].
type Option func(*Fake)

// WithCopyDuration sets how long an accepted copy stays Creating, measured on
// the fake's clock (see [WithClock]). Zero makes the copied databases Running
// at once; a negative duration is treated as zero.
func WithCopyDuration(d time.Duration) Option {
	return func(f *Fake) { f.copyDuration = max(d, 0) }
}

// WithClock sets the fake's clock, used for the Timestamp window, nonce
// expiry, the backup retention window, the Date header and copy progress.
// Tests step a copy from Creating to Running by moving this clock; nothing
// sleeps. The default is [time.Now]. A nil now is ignored.
func WithClock(now func() time.Time) Option {
	return func(f *Fake) {
		if now != nil {
			f.now = now
		}
	}
}

// WithCredentials makes the fake accept the access key id and secret. When
// securityToken is not empty the key behaves as an STS key: every request
// must carry exactly that SecurityToken. It may be given several times to
// accept several keys; once given, [AccessKeyID] is no longer accepted unless
// listed. [Fake.Client] uses the first key given.
func WithCredentials(id, secret, securityToken string) Option {
	return func(f *Fake) {
		f.keys = append(f.keys, credential{id: id, secret: secret, token: securityToken})
	}
}

// WithRestoreSourceRequired makes CopyDatabaseBetweenInstances refuse a
// request that carries neither BackupId nor RestoreTime (400
// MissingParameter), as the newest API reference says the service does. By
// default the fake follows the older reference page, where both are optional.
func WithRestoreSourceRequired() Option {
	return func(f *Fake) { f.requireRestoreSource = true }
}

// New returns a Fake with an empty catalogue that accepts [AccessKeyID] and
// [AccessKeySecret], uses [time.Now] and [DefaultCopyDuration], then applies
// opts.
func New(opts ...Option) *Fake {
	f := &Fake{
		now:          time.Now,
		copyDuration: DefaultCopyDuration,
		instances:    make(map[string]*instance),
		nonces:       make(map[nonceKey]time.Time),
	}
	for _, o := range opts {
		o(f)
	}
	if len(f.keys) == 0 {
		f.keys = []credential{{id: AccessKeyID, secret: AccessKeySecret}}
	}
	return f
}

// Instance describes an RDS instance of the fake's account. Zero fields take
// defaults when added with [Fake.AddInstance]: Engine "SQLServer",
// EngineVersion "2016_std_ha", RegionID "cn-hangzhou", ZoneID
// "cn-hangzhou-h", NetworkType "VPC", Status "Running", StorageGB 100 and
// BackupRetentionDays 7.
type Instance struct {
	ID, Engine, EngineVersion, RegionID, ZoneID, NetworkType, Status string
	StorageGB                                                        int
	ReadOnly                                                         bool
	BackupRetentionDays                                              int
}

// Database describes a database on an instance. A zero Status means
// "Running". SizeBytes is what DescribeDatabases reports and what a copy
// needs on the target.
type Database struct {
	Name, Status string // Status "Creating" or "Running"
	SizeBytes    int64
	TDE          bool
}

// Backup describes a backup set of an instance, listing the databases it
// holds. Only an Available backup can be copied from.
type Backup struct {
	ID         string
	Start, End time.Time
	Databases  []string
	Available  bool
}

// withDefaults returns inst with its zero fields set to the defaults.
func (inst Instance) withDefaults() Instance {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&inst.Engine, "SQLServer")
	def(&inst.EngineVersion, "2016_std_ha")
	def(&inst.RegionID, Region)
	def(&inst.ZoneID, inst.RegionID+"-h")
	def(&inst.NetworkType, "VPC")
	def(&inst.Status, "Running")
	if inst.StorageGB == 0 {
		inst.StorageGB = 100
	}
	if inst.BackupRetentionDays == 0 {
		inst.BackupRetentionDays = 7
	}
	return inst
}

// AddInstance adds inst to the catalogue, or replaces the attributes of the
// instance with the same ID (its databases and backups are kept). It panics
// if inst.ID is empty.
func (f *Fake) AddInstance(inst Instance) {
	if inst.ID == "" {
		panic("copydbtest: AddInstance: empty instance ID")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if old, ok := f.instances[inst.ID]; ok {
		old.Instance = inst.withDefaults()
		return
	}
	f.instances[inst.ID] = &instance{Instance: inst.withDefaults(), dbs: make(map[string]*database)}
}

// AddDatabase adds db to the instance, or replaces the database of the same
// name. It panics if the instance is unknown or db.Name is empty.
func (f *Fake) AddDatabase(instanceID string, db Database) {
	if db.Name == "" {
		panic("copydbtest: AddDatabase: empty database name")
	}
	if db.Status == "" {
		db.Status = "Running"
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mustInstance("AddDatabase", instanceID).dbs[db.Name] = &database{Database: db}
}

// AddBackup adds b to the instance's backup sets. It panics if the instance
// is unknown or b.ID is empty.
func (f *Fake) AddBackup(instanceID string, b Backup) {
	if b.ID == "" {
		panic("copydbtest: AddBackup: empty backup ID")
	}
	b.Databases = slices.Clone(b.Databases)
	f.mu.Lock()
	defer f.mu.Unlock()
	inst := f.mustInstance("AddBackup", instanceID)
	inst.backups = append(inst.backups, b)
}

// mustInstance returns the instance or panics naming the caller.
func (f *Fake) mustInstance(caller, id string) *instance {
	inst, ok := f.instances[id]
	if !ok {
		panic(fmt.Sprintf("copydbtest: %s: unknown instance %q", caller, id))
	}
	return inst
}

// Databases returns the instance's databases sorted by name, with their
// status as of the fake's clock (a copied database turns from Creating to
// Running once the copy duration has passed). It returns nil for an unknown
// instance.
func (f *Fake) Databases(instanceID string) []Database {
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	inst, ok := f.instances[instanceID]
	if !ok {
		return nil
	}
	out := make([]Database, 0, len(inst.dbs))
	for _, d := range inst.sortedDBs() {
		out = append(out, d.snapshot(now))
	}
	return out
}

// sortedDBs returns the instance's databases ordered by name.
func (inst *instance) sortedDBs() []*database {
	names := slices.Sorted(maps.Keys(inst.dbs))
	out := make([]*database, len(names))
	for i, n := range names {
		out[i] = inst.dbs[n]
	}
	return out
}

// usedBytes returns the sum of the sizes of the instance's databases.
func (inst *instance) usedBytes() int64 {
	var n int64
	for _, d := range inst.dbs {
		n += d.SizeBytes
	}
	return n
}

// Request is the record of one request the fake received, with secrets
// redacted: it holds no Signature and no SecurityToken, and AccessKeyID keeps
// only its first four characters.
type Request struct {
	Time        time.Time  // the fake's clock when the request arrived
	Method      string     // GET or POST
	Action      string     // the Action parameter
	Format      string     // the Format parameter as sent
	RegionID    string     // the RegionId parameter
	AccessKeyID string     // masked: first four characters + "****"
	Nonce       string     // the SignatureNonce parameter
	Params      url.Values // the operation's parameters (the common ones left out)
	RequestID   string     // the request id answered, if any
	Status      int        // the HTTP status answered; 0 when no answer was sent
	Code        string     // the error code answered; "" on success
	Dropped     bool       // the connection was dropped by a fault
}

// Requests returns the record of every request received, in the order their
// handling finished, including refused ones.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Request, len(f.requests))
	for i, r := range f.requests {
		r.Params = cloneValues(r.Params)
		out[i] = r
	}
	return out
}

// Copy is the record of one accepted CopyDatabaseBetweenInstances request.
type Copy struct {
	RequestID         string
	SourceID          string
	TargetID          string
	DBNames           map[string]string // source name to target name
	BackupID          string
	RestoreTime       time.Time // zero when not given
	SyncUserPrivilege bool      // users and permissions were copied too
	Accepted          time.Time // the fake's clock at acceptance
	Ready             time.Time // when the copied databases become Running
}

// Copies returns the accepted copies in the order they were accepted.
func (f *Fake) Copies() []Copy {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Copy, len(f.copies))
	for i, c := range f.copies {
		c.DBNames = maps.Clone(c.DBNames)
		out[i] = c
	}
	return out
}

// cloneValues returns a deep copy of v.
func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// maskKey keeps the first four characters of an access key id.
func maskKey(id string) string {
	if id == "" {
		return ""
	}
	if len(id) <= 4 {
		return "****"
	}
	return id[:4] + "****"
}

// majorVersion returns the part of an EngineVersion before "_".
func majorVersion(v string) string {
	major, _, _ := strings.Cut(v, "_")
	return major
}
