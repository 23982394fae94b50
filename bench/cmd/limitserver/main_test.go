package main

import "testing"

func TestCutAndField(t *testing.T) {
	name, payload := cut([]byte(`["set-username",{"username":"Alice"}]`))
	if string(name) != "set-username" || string(payload) != `{"username":"Alice"}` {
		t.Errorf("cut = %q, %q", name, payload)
	}
	if got := field(payload, "username"); string(got) != "Alice" {
		t.Errorf("field = %q", got)
	}
	if name, payload := cut([]byte(`["logout"]`)); string(name) != "logout" || payload != nil {
		t.Errorf("cut without payload = %q, %q", name, payload)
	}
	if name, _ := cut([]byte(`{}`)); name != nil {
		t.Errorf("cut of a non-array = %q", name)
	}
}
