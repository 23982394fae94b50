package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// wireDecoder is the library's decoder with one rescue: a packet whose JSON
// holds a number float64 cannot carry (1e400) fails the library's
// json.Decode, and the library then closes the connection without a word. For
// a CONNECT or EVENT packet that is otherwise well formed the rescue decodes
// it again, with such numbers as ±Inf, and hands it on: the generated checks
// then answer invalid-payload naming the field, as for any other bad value.
type wireDecoder struct{ parser.Decoder }

func (p wireParser) NewDecoder() parser.Decoder { return wireDecoder{p.Parser.NewDecoder()} }

func (d wireDecoder) Add(data any) error {
	var raw []byte
	switch v := data.(type) {
	case string:
		raw = []byte(v)
	case *types.StringBuffer:
		raw = v.Bytes() // the unread bytes; the library's reads leave them in place
	}
	err := d.Decoder.Add(data)
	if err == nil || raw == nil || !errors.Is(err, parser.ErrInvalidPayload) {
		return err
	}
	if p := decodeOutOfRange(raw); p != nil {
		d.Emit("decoded", p)
		return nil
	}
	return err
}

// decodeOutOfRange decodes a CONNECT or EVENT packet (no namespace other than
// the default, as the runtime serves; an optional ack id) whose payload is
// valid JSON but for numbers out of float64's range; nil for anything else.
func decodeOutOfRange(b []byte) *parser.Packet {
	if len(b) < 2 {
		return nil
	}
	p := &parser.Packet{Type: parser.PacketType(b[0] - '0'), Nsp: "/"}
	if p.Type != parser.CONNECT && p.Type != parser.EVENT {
		return nil
	}
	b = b[1:]
	i := 0
	for i < len(b) && i <= 20 && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i > 0 {
		id, err := strconv.ParseUint(string(b[:i]), 10, 64)
		if err != nil || p.Type != parser.EVENT {
			return nil
		}
		p.Id = &id
	}
	dec := json.NewDecoder(bytes.NewReader(b[i:]))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil || dec.More() {
		return nil
	}
	p.Data = toFloats(v)
	switch d := p.Data.(type) {
	case map[string]any:
		if p.Type != parser.CONNECT {
			return nil
		}
	case []any:
		if _, ok := firstString(d); !ok || p.Type != parser.EVENT {
			return nil
		}
	default:
		return nil
	}
	return p
}

func firstString(a []any) (string, bool) {
	if len(a) == 0 {
		return "", false
	}
	s, ok := a[0].(string)
	return s, ok
}

// toFloats turns the json.Numbers of v into float64, as encoding/json would,
// with ±Inf for those beyond its range (which no check lets through).
func toFloats(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil && !math.IsInf(f, 0) {
			return math.NaN()
		}
		return f
	case []any:
		for i := range x {
			x[i] = toFloats(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = toFloats(x[k])
		}
	}
	return v
}
