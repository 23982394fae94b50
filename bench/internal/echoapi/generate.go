// Package echoapi is generated from schema.yaml: the typed echo of the W0
// calibration workload of the benchmarks (see bench/README.md).
package echoapi

//go:generate go run ../../../gen/cmd/karlgen generate --schema schema.yaml --go-out . --go-package echoapi
