package impl

import (
	"context"
	"encoding/json"

	"github.com/karl-app/karl/runtime"
	"github.com/karl-app/karl/runtime/internal/roomkey"
)

// RoomKey returns the key of the room of kind with params, in a key space no
// socket id, free room name or other kind reaches.
func RoomKey(kind string, params ...string) string { return roomkey.Build(kind, params...) }

// Members returns the members of the room with key, decoded by decode.
func Members[T any](ctx context.Context, srv *runtime.Server, key string, decode func(any) (T, error)) ([]T, error) {
	raw, err := srv.Members(ctx, key)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(raw))
	for _, r := range raw {
		var v any
		if err := json.Unmarshal(r, &v); err != nil {
			return nil, err
		}
		m, err := decode(v)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// InvalidRoom wraps a Validate error of a room's parameters: like InvalidEmit, a
// server bug (the client's payloads were checked already), answered "internal".
func InvalidRoom(kind string, err error) error {
	return &EmitError{Event: "room of kind " + kind, Err: err}
}
