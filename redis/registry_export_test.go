package redis

// StopAnswering makes r ignore the other nodes' requests while its
// heartbeat goes on: a node that hangs.
func (r *ProcessRegistry) StopAnswering() { r.stopAnswering() }

// Kill stops r's heartbeat and answers without taking it out of the
// cluster: a node killed with SIGKILL, whose heartbeat key is left to
// expire.
func (r *ProcessRegistry) Kill() { r.cancel() }
