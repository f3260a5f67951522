// Package inmem holds fourd's single-node runtime state in memory: the
// process table, the worker mailboxes, the session store, the entity locks,
// and the entity-set cache with its two row-set representations (a roaring
// bitmap for unsorted sets, a packed array for sorted ones). It is the
// default; a multi-node deployment swaps in shared stores behind the same
// fourd interfaces.
package inmem
