// Package inmem holds fourd's single-node runtime state in memory: the
// process table, the worker mailboxes and the session store. It is the
// default; a multi-node deployment swaps in shared stores behind the same
// fourd interfaces.
package inmem
