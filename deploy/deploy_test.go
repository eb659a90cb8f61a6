package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// secretish matches what must never be in a command line.
var secretish = regexp.MustCompile(`(?i)(HUAWEICLOUD_SDK_(AK|SK)=|PGPASSWORD=|password=|://[^/\s:@]+:[^/\s@]+@|WEBHOOK_SECRET=|--webhook[ =]https?://)`)

// unit parses a systemd unit into section -> key -> values.
func unit(t *testing.T, path string) map[string]map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := map[string]map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not KEY=VALUE in a section: %q", path, n, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

func TestSystemdUnits(t *testing.T) {
	hardening := map[string]string{
		"NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes", "RestrictSUIDSGID": "yes",
		"CapabilityBoundingSet": "", "UMask": "0077",
	}
	cases := []struct {
		file     string
		wantExec string
	}{
		{"systemd/factorgate-check.service", "factorgate check -i /etc/factorgate/fleet.yaml --record"},
		{"systemd/factorgate-serve.service", "factorgate serve -i /etc/factorgate/fleet.yaml --schedule"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			s := unit(t, c.file)["Service"]
			exec := strings.Join(s["ExecStart"], " ")
			if !strings.Contains(exec, c.wantExec) {
				t.Errorf("ExecStart = %q, want it to run %q", exec, c.wantExec)
			}
			if secretish.MatchString(exec) {
				t.Errorf("ExecStart carries a secret: %q", exec)
			}
			if len(s["EnvironmentFile"]) == 0 {
				t.Error("no EnvironmentFile for the secrets")
			}
			if len(s["User"]) == 0 && strings.Join(s["DynamicUser"], "") != "yes" {
				t.Error("runs as root: want User= or DynamicUser=yes")
			}
			for k, want := range hardening {
				if got := s[k]; len(got) == 0 || got[len(got)-1] != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
	timer := unit(t, "systemd/factorgate-check.timer")
	if timer["Timer"]["Unit"][0] != "factorgate-check.service" || len(timer["Timer"]["OnCalendar"]) == 0 {
		t.Errorf("timer = %v, want an OnCalendar for factorgate-check.service", timer["Timer"])
	}
}

func TestCronLine(t *testing.T) {
	b, err := os.ReadFile("cron/factorgate")
	if err != nil {
		t.Fatal(err)
	}
	var jobs []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || regexp.MustCompile(`^[A-Z_]+=`).MatchString(line) {
			continue
		}
		jobs = append(jobs, line)
	}
	if len(jobs) != 1 {
		t.Fatalf("%d cron jobs, want 1: %q", len(jobs), jobs)
	}
	f := strings.Fields(jobs[0])
	if len(f) < 7 || f[5] != "factorgate" {
		t.Fatalf("cron line %q: want five time fields, the user factorgate, a command", jobs[0])
	}
	cmd := strings.Join(f[6:], " ")
	if !strings.Contains(cmd, "factorgate check -i") || !strings.Contains(cmd, "--record") || secretish.MatchString(cmd) || strings.Contains(cmd, "%") {
		t.Errorf("cron command %q: want check --record, no secret, no %%", cmd)
	}
}

// k8sDocs reads every document of a manifest.
func k8sDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if d["apiVersion"] == nil || d["kind"] == nil || dig(d, "metadata", "name") == nil {
			t.Fatalf("%s: a document without apiVersion, kind or metadata.name", path)
		}
		docs = append(docs, d)
	}
	return docs
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func TestKubernetesManifests(t *testing.T) {
	paths, _ := filepath.Glob("kubernetes/*.yaml")
	kinds := map[string]bool{}
	for _, path := range paths {
		for _, d := range k8sDocs(t, path) {
			kind := d["kind"].(string)
			kinds[kind] = true
			var pod any
			switch kind {
			case "CronJob":
				pod = dig(d, "spec", "jobTemplate", "spec", "template", "spec")
				if dig(d, "spec", "concurrencyPolicy") != "Forbid" {
					t.Errorf("%s: CronJob concurrencyPolicy = %v, want Forbid", path, dig(d, "spec", "concurrencyPolicy"))
				}
			case "Deployment", "Job":
				pod = dig(d, "spec", "template", "spec")
			default:
				continue
			}
			if dig(pod, "securityContext", "runAsNonRoot") != true {
				t.Errorf("%s: %s pod may run as root", path, kind)
			}
			for _, c := range dig(pod, "containers").([]any) {
				var args []string
				for _, a := range dig(c, "args").([]any) {
					args = append(args, a.(string))
				}
				if secretish.MatchString(strings.Join(args, " ")) {
					t.Errorf("%s: args carry a secret: %q", path, args)
				}
				if dig(c, "securityContext", "readOnlyRootFilesystem") != true || dig(c, "securityContext", "allowPrivilegeEscalation") != false {
					t.Errorf("%s: container not read-only or may escalate", path)
				}
				env, _ := dig(c, "env").([]any)
				for _, e := range env {
					if dig(e, "value") != nil && secretish.MatchString(dig(e, "name").(string)+"=") {
						t.Errorf("%s: secret %v given as a plain value", path, dig(e, "name"))
					}
				}
				if dig(c, "envFrom") == nil {
					t.Errorf("%s: secrets not taken from a Secret (envFrom)", path)
				}
			}
		}
	}
	for _, k := range []string{"CronJob", "Secret", "Deployment"} {
		if !kinds[k] {
			t.Errorf("no %s in kubernetes/", k)
		}
	}
}

// TestServeDeploymentHosts: a serve that listens beyond loopback answers
// the names of its Service, which its Host guard refuses unless allowed.
func TestServeDeploymentHosts(t *testing.T) {
	var svc, ns string
	var args []string
	for _, d := range k8sDocs(t, "kubernetes/serve.yaml") {
		switch d["kind"] {
		case "Service":
			svc, ns = dig(d, "metadata", "name").(string), dig(d, "metadata", "namespace").(string)
		case "Deployment":
			for _, a := range dig(d, "spec", "template", "spec", "containers").([]any)[0].(map[string]any)["args"].([]any) {
				args = append(args, a.(string))
			}
		}
	}
	line := " " + strings.Join(args, " ") + " "
	for _, name := range []string{svc, svc + "." + ns + ".svc", svc + "." + ns + ".svc.cluster.local"} {
		if !strings.Contains(line, " --allowed-host "+name+" ") {
			t.Errorf("serve args %q: no --allowed-host %s", args, name)
		}
	}
}

// TestShardedJob: the sharded audit is an Indexed Job of N pods, each of
// which records shard JOB_COMPLETION_INDEX+1 of N under the Job's name. Its
// command, run by a shell as the pod runs it, gives each index its shard.
func TestShardedJob(t *testing.T) {
	docs := k8sDocs(t, "kubernetes/cronjob-sharded.yaml")
	if len(docs) != 1 || docs[0]["kind"] != "CronJob" {
		t.Fatalf("want one CronJob, got %d documents", len(docs))
	}
	job := dig(docs[0], "spec", "jobTemplate", "spec")
	if dig(job, "completionMode") != "Indexed" {
		t.Errorf("completionMode = %v, want Indexed", dig(job, "completionMode"))
	}
	n, _ := dig(job, "completions").(int)
	if n < 2 || dig(job, "parallelism") != n {
		t.Errorf("completions %v, parallelism %v: want the same N >= 2", dig(job, "completions"), dig(job, "parallelism"))
	}
	c := dig(job, "template", "spec", "containers").([]any)[0]
	env := map[string]any{}
	for _, e := range dig(c, "env").([]any) {
		env[dig(e, "name").(string)] = e
	}
	if dig(env["SHARDS"], "value") != strconv.Itoa(n) {
		t.Errorf("SHARDS = %v, want the completions, %d", dig(env["SHARDS"], "value"), n)
	}
	if p := dig(env["AUDIT_ID"], "valueFrom", "fieldRef", "fieldPath"); p != "metadata.labels['batch.kubernetes.io/job-name']" {
		t.Errorf("AUDIT_ID comes from %v, want the Job's name label", p)
	}
	var cmd []string
	for _, a := range append(dig(c, "command").([]any), dig(c, "args").([]any)...) {
		cmd = append(cmd, a.(string))
	}
	if len(cmd) != 3 || cmd[0] != "/busybox/sh" || cmd[1] != "-c" || !strings.HasPrefix(cmd[2], "exec factorgate check ") {
		t.Fatalf("command %q: want /busybox/sh -c 'exec factorgate check ...'", cmd)
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to run the command with")
	}
	// The shell line as the pod runs it, with printf in factorgate's place
	// to show the arguments it would get.
	line := strings.Replace(cmd[2], "exec factorgate", "printf '%s\\n'", 1)
	for index := 0; index < n; index++ {
		run := exec.Command(sh, "-c", line)
		run.Env = []string{"JOB_COMPLETION_INDEX=" + strconv.Itoa(index), "SHARDS=" + strconv.Itoa(n), "AUDIT_ID=factorgate-audit-sharded-29123456"}
		out, err := run.Output()
		if err != nil {
			t.Fatalf("index %d: %v", index, err)
		}
		args := strings.Split(strings.TrimSpace(string(out)), "\n")
		want := []string{"check", "-i", "/etc/factorgate/fleet.yaml", "--record", "--fail-on", "none",
			"--shard", fmt.Sprintf("%d/%d", index+1, n), "--audit-id", "factorgate-audit-sharded-29123456"}
		if strings.Join(args[:len(want)], " ") != strings.Join(want, " ") {
			t.Errorf("index %d: factorgate %q, want %q...", index, args, want)
		}
	}
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("docker/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	from := regexp.MustCompile(`(?m)^FROM `).FindAllStringIndex(df, -1)
	user := regexp.MustCompile(`(?m)^USER (\S+)`).FindAllStringSubmatch(df, -1)
	switch {
	case len(from) < 2:
		t.Error("not a multi-stage build")
	case !strings.Contains(df, "CGO_ENABLED=0"):
		t.Error("the binary is not built static (CGO_ENABLED=0)")
	case len(user) == 0 || strings.HasPrefix(user[len(user)-1][1], "0") || strings.HasPrefix(user[len(user)-1][1], "root"):
		t.Errorf("the image runs as root: USER %v", user)
	case !regexp.MustCompile(`(?m)^FROM (gcr.io/distroless/static\S*|scratch)`).MatchString(df):
		t.Error("the final stage is neither distroless/static nor scratch")
	}
}
