package testenv

import (
	"fmt"
	"os"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// credentials are one user's client certificate for a cluster.
type credentials struct {
	cluster string
	server  string
	caPEM   []byte
	user    string
	cert    clientCert
}

// kubeconfig renders a kubeconfig with one cluster, user and context, all
// named after the cluster, with credentials embedded so the file can be
// copied around.
func (c credentials) kubeconfig() ([]byte, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[c.cluster] = &clientcmdapi.Cluster{Server: c.server, CertificateAuthorityData: c.caPEM}
	cfg.AuthInfos[c.cluster] = &clientcmdapi.AuthInfo{ClientCertificateData: c.cert.certPEM, ClientKeyData: c.cert.keyPEM}
	cfg.Contexts[c.cluster] = &clientcmdapi.Context{Cluster: c.cluster, AuthInfo: c.cluster}
	cfg.CurrentContext = c.cluster
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("rendering kubeconfig for %s: %w", c.user, err)
	}
	return data, nil
}

func (c credentials) writeKubeconfig(path string) ([]byte, error) {
	data, err := c.kubeconfig()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return nil, fmt.Errorf("writing kubeconfig %s: %w", path, err)
	}
	return data, nil
}

// restConfig is a client configuration for the credentials with client-side
// rate limits high enough that tests measure the control plane, not
// client-go's token bucket.
func (c credentials) restConfig() *rest.Config {
	return &rest.Config{
		Host: c.server,
		TLSClientConfig: rest.TLSClientConfig{
			CAData:   c.caPEM,
			CertData: c.cert.certPEM,
			KeyData:  c.cert.keyPEM,
		},
		QPS:   500,
		Burst: 1000,
	}
}
