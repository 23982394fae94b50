package events

//go:generate go run ../../gen/cmd/karlgen generate --schema ../../schema/karl.yaml --go-out . --go-package events --ts-out ../../tsclient/src/generated
