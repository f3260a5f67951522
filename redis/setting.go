package redis

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"
)

// This file is the settings every node of a cluster must hold alike (the
// server keeps roles.json's digest here): the first node to join records
// its value, and a node whose value differs is told the cluster's.

// agreeScript records ARGV[1] under KEYS[1] when the key is unset or
// ARGV[2] is "1" (no other node is live: the first node sets the rule),
// and returns the value the cluster holds afterwards.
var agreeScript = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur or ARGV[2] == '1' then
  redis.call('SET', KEYS[1], ARGV[1])
  return ARGV[1]
end
return cur
`)

// AgreeSetting records value as the cluster's setting name, or returns the
// value the cluster already holds. When alone is true (no other node of
// the cluster is live), value replaces whatever was recorded: a cluster
// whose nodes all stopped may restart with a new setting. The caller
// compares the answer with its value.
func (db *DB) AgreeSetting(ctx context.Context, name, value string, alone bool) (string, error) {
	flag := "0"
	if alone {
		flag = "1"
	}
	cur, err := agreeScript.Run(ctx, db.Client, []string{db.key("setting:" + name)}, value, flag).Text()
	if err != nil {
		return "", fmt.Errorf("cluster setting %s: %w", name, err)
	}
	return cur, nil
}
