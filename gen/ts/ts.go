// Package ts emits the TypeScript client of a schema.
package ts

import "github.com/karl-app/karl/gen/model"

// File is one generated file.
type File struct {
	Name string
	Data []byte
}

// Generate renders the TypeScript files of the model.
func Generate(m *model.Schema) []File {
	return nil
}
