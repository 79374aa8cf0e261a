package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// process is one control-plane binary run as a child of this process.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	started time.Time
	done    chan struct{}
	waitErr error
	// stopping: stop was called, so an exit is not a crash.
	stopping atomic.Bool
}

// spawner starts every child from one goroutine locked to its OS thread.
// Pdeathsig fires when the *thread* that forked the child exits, not the
// process; the Go runtime may retire threads, so children forked from an
// arbitrary goroutine could be killed early. The locked thread never exits,
// so children die exactly when this process does, however it ends (failed
// test, panic, timeout, SIGKILL).
var spawner struct {
	once sync.Once
	reqs chan spawnRequest
}

type spawnRequest struct {
	cmd    *exec.Cmd
	result chan error
}

func spawn(cmd *exec.Cmd) error {
	spawner.once.Do(func() {
		spawner.reqs = make(chan spawnRequest)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread must outlive all children
			for r := range spawner.reqs {
				r.result <- r.cmd.Start()
			}
		}()
	})
	result := make(chan error, 1)
	spawner.reqs <- spawnRequest{cmd: cmd, result: result}
	return <-result
}

// startProcess runs path with args and this process's environment plus env,
// output going to logDir/<name>.log. The
// child gets its own process group (so a terminal's Ctrl-C reaches only the
// test binary, which then takes the children down) and SIGKILL when this
// process dies.
func startProcess(name, path string, args, env []string, logDir string) (*process, error) {
	logPath := filepath.Join(logDir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating log file for %s: %w", name, err)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := spawn(cmd); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, started: time.Now(), done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended, with its wait error.
func (p *process) exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.waitErr
	default:
		return false, nil
	}
}

// stop sends SIGTERM and waits up to grace before killing the whole
// process group; a zero grace kills at once.
func (p *process) stop(grace time.Duration) error {
	p.stopping.Store(true)
	if ok, _ := p.exited(); ok {
		return nil
	}
	pgid := p.cmd.Process.Pid
	if grace > 0 {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
			return nil
		case <-time.After(grace):
		}
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("killing %s (pid %d): %w", p.name, pgid, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", p.name, pgid)
	}
}

// quickExits is the count of exits in a row within crashWindow of the
// start, after this process exited, n before it.
func (p *process) quickExits(n int) int {
	if time.Since(p.started) < crashWindow {
		return n + 1
	}
	return 0
}

// pid is the process id, which is also its process group id.
func (p *process) pid() int { return p.cmd.Process.Pid }

// ProcessRSS reads the resident set size, in bytes, of a process from
// /proc (Linux only).
func ProcessRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("reading status of pid %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parsing VmRSS of pid %d: %w", pid, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("pid %d has no VmRSS", pid)
}

// ProcessCPUTime reads the CPU time, user and system, that a process has
// used, from /proc (Linux only).
func ProcessCPUTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("reading stat of pid %d: %w", pid, err)
	}
	// The command name may hold spaces; the fields after it are fixed:
	// utime and stime are the 12th and 13th, in clock ticks.
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("pid %d: short stat", pid)
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parsing stat of pid %d: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// clockTicks is USER_HZ, which Linux fixes at 100 on every architecture Go
// supports.
const clockTicks = 100

// logTail returns the last n lines of the process's log.
func (p *process) logTail(n int) string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", p.logPath, err)
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// keepLog moves the log of a process that ended aside, as
// <name>.previous-<n>.log, so that the next run of the component, which
// writes <name>.log afresh, does not lose it.
func (p *process) keepLog() error {
	base := strings.TrimSuffix(p.logPath, ".log")
	for n := 1; ; n++ {
		kept := fmt.Sprintf("%s.previous-%d.log", base, n)
		if _, err := os.Stat(kept); errors.Is(err, os.ErrNotExist) {
			return os.Rename(p.logPath, kept)
		}
	}
}
