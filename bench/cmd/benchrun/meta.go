package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// meta describes the machine and the versions a run used.
type meta struct {
	Date      string            `json:"date"`
	Commit    string            `json:"commit"`
	CPU       string            `json:"cpu"`
	Cores     int               `json:"cores"`
	MemoryGiB float64           `json:"memory_gib"`
	Kernel    string            `json:"kernel"`
	Versions  map[string]string `json:"versions"`
	LoadStart string            `json:"load_start"`
	LoadEnd   string            `json:"load_end"`
	Minutes   float64           `json:"minutes"`
	Quick     bool              `json:"quick"`
	Command   string            `json:"command"`
	DBDir     string            `json:"db_dir"`
}

func collectMeta(o *options) meta {
	m := meta{
		Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), Cores: runtime.NumCPU(), Quick: o.quick,
		Command: o.command, LoadStart: loadAverage(), DBDir: filepath.Dir(o.e.work),
		Commit: firstLine(output("git", "rev-parse", "--short", "HEAD")),
		Kernel: firstLine(output("uname", "-r")),
	}
	if o.quick {
		m.Command += "-quick"
	}
	m.CPU, m.MemoryGiB = cpuAndMemory()
	m.Versions = map[string]string{
		"go":   strings.TrimPrefix(firstLine(output("go", "env", "GOVERSION")), "go"),
		"node": strings.TrimPrefix(firstLine(output("node", "--version")), "v"),
	}
	for _, pkg := range []string{"socket.io", "socket.io-client", "better-sqlite3", "sharp"} {
		m.Versions["npm "+pkg] = npmVersion(o.e.nodeRef, pkg)
	}
	for mod, name := range map[string]string{
		"github.com/zishang520/socket.io/servers/socket/v3": "zishang520/socket.io",
		"github.com/gorilla/websocket":                      "gorilla/websocket",
		"modernc.org/sqlite":                                "modernc.org/sqlite",
	} {
		m.Versions[name] = goModVersion(mod)
	}
	return m
}

func output(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return ""
	}
	return string(out)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func cpuAndMemory() (string, float64) {
	var cpu string
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	var gib float64
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "MemTotal:" {
				var kb float64
				for _, c := range f[1] {
					kb = kb*10 + float64(c-'0')
				}
				gib = kb / (1 << 20)
			}
		}
		f.Close()
	}
	return cpu, gib
}

func npmVersion(dir, pkg string) string {
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", pkg, "package.json"))
	if err != nil {
		return ""
	}
	var p struct{ Version string }
	_ = json.Unmarshal(b, &p)
	return p.Version
}

func goModVersion(mod string) string {
	b, err := os.ReadFile("go.mod")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == mod {
			return f[1]
		}
	}
	return ""
}
