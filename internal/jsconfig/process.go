package jsconfig

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ChildEnv, set to "1", makes a program started by Process run the engine
// (Child) instead of what it usually does.
const ChildEnv = "LECTERN_SANDBOX_JS"

// Process runs the engine in a child process: Program with Args, then the
// path of a file holding the bundle, and with ChildEnv=1 as its whole
// environment, so that no secret of the parent's reaches it. The program
// must call Child when it sees ChildEnv. The child caps its own address
// space; the parent kills it when the time is up.
type Process struct {
	Program string
	Args    []string
}

// Run implements Runner.
func (p Process) Run(ctx context.Context, name, code string, lim Limits) (string, error) {
	f, err := os.CreateTemp("", "lectern-config-*.js")
	if err != nil {
		return "", fmt.Errorf("jsconfig: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := io.WriteString(f, code); err != nil {
		f.Close()
		return "", fmt.Errorf("jsconfig: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("jsconfig: %w", err)
	}
	cmd := exec.CommandContext(ctx, p.Program, append(append([]string{}, p.Args...), f.Name(), name,
		strconv.FormatInt(int64(lim.Timeout), 10), strconv.FormatUint(lim.MaxHeap, 10),
		strconv.Itoa(lim.MaxCallDeep), strconv.FormatUint(lim.MaxMemory, 10))...)
	cmd.Env = []string{ChildEnv + "=1"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &limitedBuffer{b: &stdout, max: lim.MaxResult + 1}
	cmd.Stderr = &limitedBuffer{b: &stderr, max: 4096}
	err = cmd.Run()
	said := stderr.String()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return "", fmt.Errorf("%w (%s)", ErrTimeout, name)
	case err == nil:
		return stdout.String(), nil
	case strings.Contains(said, ErrTimeout.Error()):
		return "", fmt.Errorf("%w (%s)", ErrTimeout, name)
	case strings.Contains(said, ErrMemory.Error()):
		return "", fmt.Errorf("%w (%s)", ErrMemory, name)
	case errors.As(err, &exit) && exit.ExitCode() == 1 && said != "":
		return "", errors.New(firstLine(strings.TrimSpace(said))) // the script's own error, as Child wrote it
	case strings.Contains(said, "memory") || strings.Contains(said, "allocate"):
		// The runtime died of the address space cap.
		return "", fmt.Errorf("%w (%s)", ErrMemory, name)
	}
	return "", fmt.Errorf("jsconfig: %s: the sandbox stopped: %v", name, err)
}

// Child is the child process's side of Process: args are what Process
// added (the bundle's file, the module's name and the limits). It writes
// the export as JSON to stdout; an error goes to the caller to print.
func Child(args []string, stdout io.Writer) error {
	if len(args) < 6 {
		return errors.New("jsconfig: the sandbox needs a bundle, a name and the limits")
	}
	args = args[len(args)-6:]
	var lim Limits
	timeout, err1 := strconv.ParseInt(args[2], 10, 64)
	heap, err2 := strconv.ParseUint(args[3], 10, 64)
	deep, err3 := strconv.Atoi(args[4])
	mem, err4 := strconv.ParseUint(args[5], 10, 64)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return fmt.Errorf("jsconfig: the sandbox's limits: %w", err)
	}
	lim.Timeout, lim.MaxHeap, lim.MaxCallDeep, lim.MaxMemory = time.Duration(timeout), heap, deep, mem
	if mem > 0 {
		if err := syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: mem, Max: mem}); err != nil {
			return fmt.Errorf("jsconfig: capping the sandbox's memory: %w", err)
		}
	}
	code, err := os.ReadFile(args[0])
	if err != nil {
		return fmt.Errorf("jsconfig: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), lim.Timeout)
	defer cancel()
	out, err := run(ctx, string(code), args[1], lim)
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, out)
	return err
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	b   *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
