// Package clusters keeps the provider's connections to target clusters.
//
// A connection is a controller-runtime cluster.Cluster: a client whose reads
// come from an informer cache that watches the target cluster, and whose
// writes go straight to its API server. There is exactly one per provider
// config (Key) and credential fingerprint (a SHA-256 of the kubeconfig), for
// three reasons:
//
//   - Watches are the point. The managed-resource controller must hear of a
//     container restart in a target cluster within about a second, so the
//     provider keeps long-lived watches there and reconciles from their
//     events rather than from polling.
//   - Building a client is expensive. Since controller-runtime v0.20 a new
//     client primes (aggregated) discovery, and provider-kubernetes paid for
//     building one per reconcile with several times the CPU and memory
//     (provider-kubernetes #541/#543). Here discovery, TLS set-up and the
//     initial LIST of every watched kind happen once per cluster.
//   - Credentials decide identity. Keying on the fingerprint as well as the
//     provider config means a rotated Secret is noticed on the next Get, from
//     the control plane's cache, without comparing or logging Secret bytes.
//
// Connections are made lazily by Get, each in its own goroutine with a
// bounded wait (Options.SyncTimeout), and the Manager's lock is never held
// while dialling or syncing: an unreachable cluster fails only the managed
// resources that use it. A failed attempt is remembered for
// Options.RetryInterval so that a burst of reconciles does not redial.
//
// Replacement: every Get re-reads the provider config and its Secret (from
// the control plane's cache when the Manager was given a cache-backed
// client) and compares fingerprints. A different fingerprint stops the old
// connection (its informers and watches end, no more callbacks) and dials a
// new one, whose informers report every watched object afresh through the
// OnChange callback, so managed resources are reconciled against the new
// connection. Refresh does the same eagerly for a provider config whose
// Secret changed; Forget stops and drops a connection, for a deleted provider
// config. The controllers in internal/controller/config call both.
//
// Caches hold only what the provider manages: Pods, StatefulSets, Services,
// ControllerRevisions and EndpointSlices carrying the label
// leaderworkerset.sigs.k8s.io/name (any value), the EndpointSlices only when
// managed by lws.crossplane.io, plus all Nodes, whose labels decide
// exclusive placement.
// Managed fields (and a Node's image list) are dropped before caching. Reads
// of other kinds through Client are also restricted to labelled objects; use
// APIReader for anything else.
//
// Secret material is never logged nor put into errors: errors name the
// provider config and the Secret (namespace, name, key) and logs show only a
// 12-character prefix of the fingerprint.
package clusters
