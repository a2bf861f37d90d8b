// Package copydbtest provides a strict in-process fake of the Alibaba Cloud
// RDS RPC endpoint, for testing code that uses package copydb without a cloud
// account, a network or a mock that accepts anything.
//
// Like [net/http/httptest], it ships next to the real thing: a [Fake] is an
// [net/http.Handler] that authenticates requests as the API gateway does,
// keeps a catalogue of instances, databases and backups, and serves the
// actions a copy needs with the service's field names, error codes and
// statuses. Code that passes against it should work against the service.
//
// # Quick use
//
//	f := copydbtest.New(copydbtest.WithCopyDuration(0))
//	f.AddInstance(copydbtest.Instance{ID: "rm-src"})
//	f.AddInstance(copydbtest.Instance{ID: "rm-dst"})
//	f.AddDatabase("rm-src", copydbtest.Database{Name: "sales", SizeBytes: 1 << 30})
//	client, err := f.Client() // in memory, no sockets
//	...
//	resp, err := client.CopyDatabaseBetweenInstances(ctx, &copydb.CopyDatabaseBetweenInstancesRequest{...})
//	dbs := f.Databases("rm-dst") // "sales_copy" is Creating, then Running
//
// [Fake.Client] wires a client to [Fake.HTTPClient] with the fake's
// credentials ([AccessKeyID], [AccessKeySecret]), region [Region], clock and
// retries without waits. For a real loopback server use [Fake.StartServer]
// and [Fake.ServerClient]; for your own client setup, [Fake.Options].
//
// Give the fake a clock with [WithClock] and the same clock to the client
// (Fake.Client does this) to step a copy from Creating to Running, move the
// nonce and timestamp windows, or test retention, all without sleeping.
// Inspect what happened with [Fake.Requests] (a record with secrets
// redacted) and [Fake.Copies] (the accepted copies), and script failures
// with [Fake.InjectFault].
//
// # Authentication
//
// Every request goes through the gateway's checks, in this order; the first
// failure is answered:
//   - the method is GET or POST; parameters are read from the query and a
//     form body, merged; Format is JSON or XML (case-insensitive, XML when
//     absent; an error in another Format is answered in XML, 400
//     InvalidParameter);
//   - Action, Version, AccessKeyId, SignatureNonce, Timestamp present (400
//     MissingParameter); Signature present, SignatureMethod HMAC-SHA1 and
//     SignatureVersion 1.0 (400 IncompleteSignature);
//   - Version 2014-08-15 (400 InvalidVersion);
//   - a known AccessKeyId (404 InvalidAccessKeyId.NotFound);
//   - Timestamp in the form 2006-01-02T15:04:05Z (400
//     InvalidTimeStamp.Format) and within 15 minutes either way of the fake's
//     clock (400 InvalidTimeStamp.Expired);
//   - the signature, recomputed with [copydb.Sign] over every parameter but
//     Signature (an empty SignatureType= included) and the request's method,
//     compared with [crypto/hmac.Equal] (400 SignatureDoesNotMatch, whose
//     message ends with the server's string-to-sign, as the service's does);
//   - the SecurityToken: required and equal for a key configured with one by
//     [WithCredentials], absent otherwise (400 InvalidSecurityToken.Malformed
//     or InvalidSecurityToken.Mismatch);
//   - a SignatureNonce not used by the same key within 31 minutes (400
//     SignatureNonceUsed); a request that fails an earlier check does not use
//     its nonce;
//   - a known Action (404 InvalidAction.NotFound).
//
// Every answer carries a Date header from the fake's clock, and every
// service answer an x-acs-request-id header equal to the body's RequestId.
// Errors are the service's documents: JSON {"RequestId", "HostId",
// "Code", "Message", "Recommend"} or XML <Error> with the same elements.
//
// # Actions
//
// The catalogue is one account's: an instance is found by its ID whatever
// RegionId the request carries. An unknown instance is 400
// InvalidDBInstanceId.NotFound and a missing DBInstanceId 400
// MissingParameter.
//   - DescribeDBInstanceAttribute: Items.DBInstanceAttribute[], with
//     DBInstanceStorage in GB and DBInstanceDiskUsed, the sum of the
//     databases' SizeBytes, as a decimal string.
//   - DescribeDatabases: Databases.Database[] sorted by name, filtered by
//     DBName and DBStatus, paged by PageSize (1 to 100, default 30) and
//     PageNumber (from 1); each database's size in
//     RuntimeInfo.RuntimeDbProperty (see the differences below).
//   - DescribeBackups: Items.Backup[] newest first, filtered by BackupId,
//     BackupStatus and a StartTime/EndTime window (2006-01-02T15:04Z, on the
//     backup's start), paged by PageSize (30 to 100) and PageNumber.
//     BackupSize is the sum of the sizes of the listed databases that exist
//     on the instance now.
//   - DescribeBackupPolicy: BackupRetentionPeriod from the instance.
//   - CopyDatabaseBetweenInstances: see below.
//
// # Copy rules
//
// A copy is checked entirely before anything changes; a refused copy changes
// nothing. In order:
//   - DBInstanceId, TargetDBInstanceId, DbNames present (400
//     MissingParameter);
//   - DbNames a non-empty JSON object of strings, each name matching
//     ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$ (400 InvalidDBName.Format), no target
//     name given twice (400 InvalidDBName.Duplicate);
//   - SyncUserPrivilege YES, NO or absent (400 InvalidParameter);
//   - not both BackupId and RestoreTime (400 ErrorParametersConflict); with
//     [WithRestoreSourceRequired], one of them (400 MissingParameter);
//     RestoreTime in the form 2006-01-02T15:04:05Z (400
//     InvalidBackupIdOrRestoreTime.Malformed);
//   - the target differs from the source (400 InvalidParameter);
//   - both instances exist (400 InvalidDBInstanceId.NotFound);
//   - both are SQLServer (400 EngineNotSupported for the source,
//     TargetInstanceEngineNotSupported for the target), neither is read-only
//     (400 ReadOnlyInstanceNotSupport), both are Running (403
//     IncorrectDBInstanceState), same region (400
//     InvalidInstancesRegion.Malformed), same major version, the part of
//     EngineVersion before "_" (403 InvalidInstanceVersion), same network
//     type (400 InvalidNetworkType.Mismatch);
//   - a BackupId names an Available backup of the source that lists every
//     source database (400 InvalidBackupSetID); a RestoreTime lies within
//     [now - BackupRetentionDays, now] (400 InvalidRestoreTimeSpecified) and
//     an Available backup listing every source database ended at or before
//     it (400 InvalidBackupIdOrRestoreTime.NotFound);
//   - every source database exists (400 InvalidDBName.NotFound), is Running
//     (403 IncorrectDBState) and has no TDE (400 CanNotCopyDBHasTDEEnabled);
//     no target name exists on the target (400 InvalidDBName.Duplicate);
//   - the target's free space, StorageGB·2^30 minus the sizes of its
//     databases, is larger than the sum of the sizes of the databases to copy
//     (403 StorageLimitExceeded, "Exceeding the allowed Storage of DB
//     instance.").
//
// An accepted copy answers {"RequestId", "DBInstanceId": target}. The target
// databases appear at once with Status Creating and the source's SizeBytes,
// and turn Running once the copy duration ([WithCopyDuration], default
// [DefaultCopyDuration]) has passed on the fake's clock. Status is computed
// when read: the fake starts no goroutine and no timer. [Fake.Copies] records
// each copy, SyncUserPrivilege included.
//
// # Faults
//
// [Fake.InjectFault] queues a [Fault] for the next requests, optionally of
// one action: an error answer (Throttling.User and Throttling are 400,
// ServiceUnavailable 503, InternalError 500), the HTML page of a proxy, a
// dropped connection, or a delay. Faults play after authentication, so a
// faulted request has used its nonce, and a retry must sign afresh. With
// AfterExecute the action runs before the fault: a copy can be accepted
// while the client sees a broken connection or a 5xx.
//
// # Differences from the real service
//
// These are assumptions where public sources are silent, or simplifications:
//   - The size of each database in DescribeDatabases is reported as
//     RuntimeInfo.RuntimeDbProperty[{PropertyName: "TotalSizeBytes",
//     PropertyValue: "<bytes>"}]. The service returns RuntimeDbProperty for
//     SQL Server only and does not document its keys; this form was agreed
//     with the copydb client.
//   - A different network type is refused with 400
//     InvalidNetworkType.Mismatch; the service documents no code for it.
//   - A source database that is not Running is refused with 403
//     IncorrectDBState, an undocumented code.
//   - The rule for database names, the messages of most errors, and the
//     order of the checks are the fake's own; the codes and statuses follow
//     protocol.md.
//   - A garbled RestoreTime is InvalidBackupIdOrRestoreTime.Malformed, one
//     outside the retention period InvalidRestoreTimeSpecified, and one that
//     no backup covers InvalidBackupIdOrRestoreTime.NotFound; public sources
//     do not say which code goes with which case.
//   - BackupId and RestoreTime are both optional unless
//     [WithRestoreSourceRequired]: the operation's older reference page says
//     so, the newest says exactly one is required.
//   - Any two different major versions are refused; the service documents
//     InvalidInstanceVersion for a source newer than the target and other
//     codes (IncorrectMinorVersion, UnsupportedCopyDb...) that the fake never
//     answers. Every SQL Server version is accepted, not only 2012 and 2016.
//   - The target instance stays Running during a copy; the service's states
//     during a copy are not documented. DBCountLimitExceeded is never
//     answered, and ClientToken is ignored.
//   - Backups never expire by themselves; only Backup.Available counts.
//     BackupId is not required to be numeric, though the service's are (the
//     copydb client checks that).
//   - Category is HighAvailability when EngineVersion ends in "_ha" and
//     Basic otherwise; DBInstanceClass is always mssql.x4.medium.s2; LockMode
//     is always Unlock.
//   - Only signature version 1.0 (HMAC-SHA1) is served, not V3
//     (ACS3-HMAC-SHA256); there is no RAM policy (no Forbidden.RAM) and no
//     throttling unless injected.
//   - The record of requests and the used nonces grow with use; nonces are
//     forgotten after 31 minutes of the fake's clock, the record never.
package copydbtest
