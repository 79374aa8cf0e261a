// Command etcd is etcd's server entry point under a binary name of "etcd";
// `go build -o dir/ go.etcd.io/etcd/server/v3` would name it "v3".
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
