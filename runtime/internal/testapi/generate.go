package testapi

//go:generate go run ../../../gen/cmd/karlgen generate --schema schema.yaml --go-out . --go-package testapi
