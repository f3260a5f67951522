package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/fourd/fourd/rest"
)

// loginOptions are the flags that log a command in before it calls a
// server with access control: --user NAME, and the password from the first
// line of standard input (--password-stdin), from FOURD_PASSWORD, or typed
// on the terminal.
type loginOptions struct {
	cmd           string
	stderr        io.Writer
	user          *string
	passwordStdin *bool
}

// loginFlags adds --user and --password-stdin to fs.
func loginFlags(fs *flag.FlagSet) *loginOptions {
	return &loginOptions{
		cmd:           fs.Name(),
		stderr:        fs.Output(),
		user:          fs.String("user", env("FOURD_USER", ""), "log in as this user before the call (env FOURD_USER)"),
		passwordStdin: fs.Bool("password-stdin", false, "read the password from the first line of standard input (else env FOURD_PASSWORD, else the terminal)"),
	}
}

// login logs client in when --user is given; the error is ready for main.
func (o *loginOptions) login(ctx context.Context, client *rest.Client) error {
	if *o.user == "" {
		if *o.passwordStdin {
			return &exitError{code: 2, msg: o.cmd + ": --password-stdin needs --user"}
		}
		return nil
	}
	password, err := o.password()
	if err != nil {
		return err
	}
	if err := client.Login(ctx, *o.user, password); err != nil {
		return describeCallError(client.URL(), err)
	}
	return nil
}

// password reads the password: standard input with --password-stdin, else
// FOURD_PASSWORD, else the terminal.
func (o *loginOptions) password() (string, error) {
	if *o.passwordStdin {
		return readPassword(o.cmd, true, o.stderr)
	}
	if p, ok := os.LookupEnv("FOURD_PASSWORD"); ok && p != "" {
		return p, nil
	}
	return o.readTerminal()
}

// readTerminal asks for the password once on the terminal, without echo.
func (o *loginOptions) readTerminal() (string, error) {
	f, ok := stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", &exitError{code: 2, msg: fmt.Sprintf("%s: standard input is not a terminal; give %s's password with --password-stdin or FOURD_PASSWORD", o.cmd, *o.user)}
	}
	fd := int(f.Fd())
	defer restoreTerminalOnSignal(fd, o.stderr)()
	fmt.Fprintf(o.stderr, "Password for %s: ", *o.user)
	p, err := term.ReadPassword(fd)
	fmt.Fprintln(o.stderr)
	if err != nil {
		return "", &exitError{code: 1, msg: fmt.Sprintf("%s: read the password: %v", o.cmd, err)}
	}
	return string(p), nil
}
