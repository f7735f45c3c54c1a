package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/shardmesh/shardmesh/internal/app"
)

// pki is a CA that issues certificates for the test.
type pki struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) *pki {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, IsCA: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &pki{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a PEM certificate and key for 127.0.0.1 (server) or with
// the given SPIFFE URI (client).
func (ca *pki) issue(t *testing.T, server bool, spiffe string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "leaf"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	if server {
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		if spiffe != "" {
			u, _ := url.Parse(spiffe)
			tmpl.URIs = []*url.URL{u}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

// fetchListeners opens an ADS stream with the given client certificate
// (nil: none) and node tenant metadata, asks for the named listeners and
// returns the names it receives, or the stream's error.
func fetchListeners(t *testing.T, addr string, ca *pki, client *tls.Certificate, tenant string, names ...string) ([]string, error) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if client != nil {
		cfg.Certificates = []tls.Certificate{*client}
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return nil, err
	}
	md, _ := structpb.NewStruct(map[string]any{"tenant": tenant})
	node := &corev3.Node{Id: "tls-" + tenant, UserAgentName: "grpc-go", Metadata: md, Locality: &corev3.Locality{Region: "r1", Zone: "r1a"}}
	if err := stream.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: resourcev3.ListenerType, ResourceNames: names}); err != nil {
		return nil, err
	}
	resp, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	var got []string
	for _, r := range resp.GetResources() {
		var l listenerv3.Listener
		if err := r.UnmarshalTo(&l); err != nil {
			return nil, err
		}
		got = append(got, l.GetName())
	}
	return got, nil
}

func TestMTLSTenantComesFromTheCertificate(t *testing.T) {
	dir := t.TempDir()
	ca, otherCA := newCA(t, "shardmesh-test-ca"), newCA(t, "someone-else")
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	srvCert, srvKey := ca.issue(t, true, "")
	tlsFiles := app.TLSFiles{Cert: write("srv.pem", srvCert), Key: write("srv.key", srvKey), CA: write("ca.pem", ca.pem)}
	e := newEnv(t, func(c *app.Config) { c.XDSTLS = tlsFiles })
	e.put("keyspaces/customer", `{"tenant":"acme"}`)
	waitRevision(t, e)

	acmePEM, acmeKey := ca.issue(t, false, "spiffe://shardmesh.test/tenant/acme")
	acme, err := tls.X509KeyPair(acmePEM, acmeKey)
	if err != nil {
		t.Fatal(err)
	}
	// The certificate says acme; the metadata's claim to be globex is ignored.
	got, err := fetchListeners(t, e.app.XDSAddr.String(), ca, &acme, "globex", "customer", "commerce")
	if err != nil || len(got) != 2 {
		t.Errorf("acme certificate with globex metadata: listeners %q, %v; want customer and commerce", got, err)
	}
	for _, g := range e.app.Cache.Groups() {
		if g.Tenant == "globex" {
			t.Errorf("a node group of tenant globex exists (%s): metadata overrode the certificate", g.ID())
		}
	}
	// A certificate naming no tenant gets the shared keyspaces only.
	plainPEM, plainKey := ca.issue(t, false, "")
	plain, _ := tls.X509KeyPair(plainPEM, plainKey)
	if got, err := fetchListeners(t, e.app.XDSAddr.String(), ca, &plain, "acme", "customer", "commerce"); err != nil || len(got) != 1 || got[0] != "commerce" {
		t.Errorf("certificate without a tenant, acme metadata: listeners %q, %v; want commerce only", got, err)
	}
	if _, err := fetchListeners(t, e.app.XDSAddr.String(), ca, nil, "acme", "customer"); err == nil {
		t.Error("a client without a certificate was served")
	}
	strangerPEM, strangerKey := otherCA.issue(t, false, "spiffe://shardmesh.test/tenant/acme")
	stranger, _ := tls.X509KeyPair(strangerPEM, strangerKey)
	if _, err := fetchListeners(t, e.app.XDSAddr.String(), ca, &stranger, "acme", "customer"); err == nil {
		t.Error("a client certificate from another CA was accepted")
	}
}
