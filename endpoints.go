package copydb

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// centralRegions are the regions served by the central endpoint
// rds.aliyuncs.com, as the official SDK's endpoint table has them. Every other
// region has its own host, rds.<region>.aliyuncs.com. Singapore
// (ap-southeast-1) is here because the official SDK sends it to the central
// host; current documentation also lists rds.ap-southeast-1.aliyuncs.com,
// which WithEndpoint can select.
var centralRegions = map[string]bool{
	"cn-hangzhou": true, "cn-shanghai": true, "cn-qingdao": true, "cn-beijing": true,
	"cn-shenzhen": true, "cn-hongkong": true, "cn-zhangbei": true, "cn-heyuan": true,
	"cn-wuhan": true, "us-west-1": true, "us-east-1": true, "ap-southeast-1": true,
}

var regionPattern = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+){1,4}$`)

// EndpointForRegion returns the HTTPS endpoint of the RDS API for a region:
// https://rds.aliyuncs.com/ for the regions the central endpoint serves,
// https://rds.<region>.aliyuncs.com/ for the others.
func EndpointForRegion(regionID string) (string, error) {
	if !regionPattern.MatchString(regionID) {
		return "", fmt.Errorf("copydb: region %q: not a region id such as cn-hangzhou", regionID)
	}
	if centralRegions[regionID] {
		return "https://rds.aliyuncs.com/", nil
	}
	return "https://rds." + regionID + ".aliyuncs.com/", nil
}

// parseEndpoint checks an endpoint URL: https, or http for a loopback host
// only; no user info, query or fragment. It returns the URL with path "/".
func parseEndpoint(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("copydb: endpoint: %w", err)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("copydb: endpoint %q: no host", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("copydb: endpoint: user information is not allowed")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("copydb: endpoint %q: no query or fragment allowed", u.Redacted())
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("copydb: endpoint %q: http is allowed for loopback hosts only, use https", u.Redacted())
		}
	default:
		return nil, fmt.Errorf("copydb: endpoint %q: scheme must be https", u.Redacted())
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("copydb: endpoint %q: the RPC API is served at path /", u.Redacted())
	}
	return &url.URL{Scheme: strings.ToLower(u.Scheme), Host: u.Host, Path: "/"}, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
