package model

import "testing"

func TestGoName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"set-username", "SetUsername"},
		{"user_id", "UserID"},
		{"imageBase64", "ImageBase64"},
		{"profileImage", "ProfileImage"},
		{"id", "ID"},
		{"HTTPServer", "HTTPServer"},
		{"parse-url-path", "ParseURLPath"},
		{"expiresAt", "ExpiresAt"},
		{"token-ttl", "TokenTTL"},
		{"new.message", "NewMessage"},
		{"room:joined", "RoomJoined"},
		{"x", "X"},
		{"2fa", "X2fa"},
		{"user2Name", "User2Name"},
	} {
		if got := GoName(tc.in); got != tc.want {
			t.Errorf("GoName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLowerName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"set-username", "setUsername"},
		{"id", "id"},
		{"URLPath", "urlPath"},
		{"get-profile", "getProfile"},
		{"user_id", "userID"},
	} {
		if got := LowerName(tc.in); got != tc.want {
			t.Errorf("LowerName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
