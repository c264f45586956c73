const COMMON = `
Options for every command:
  -c, --config <path>   config file (default: LIPSYNC_SYNC_CONFIG, then config/default.yaml)
  -h, --help            this help

Exit codes: 0 ok, 1 failure, 2 bad usage or input, 78 bad configuration.`;

export const HELP: Record<string, string> = {
  main: `lipsync-sync — keep your systems in sync with Creatify lipsync jobs

Usage: lipsync-sync <command> [options]

Commands:
  run                        worker + scheduler + HTTP (metrics, health, /v1 API)
  track <id...>              start tracking lipsync ids (or one per line on stdin)
  untrack <id...>            stop tracking ids
  status <id>                last known state of one lipsync (--json for JSON)
  list [--status s]          tracked ids with their last status
  replay-dead-letters        re-deliver dead-lettered webhook deliveries [--endpoint name]
  secret                     print a new webhook secret (whsec_…)
  demo                       everything on this machine: private Redis, Creatify simulator, webhook receiver

Run 'lipsync-sync <command> --help' for a command's options.${COMMON}`,
  run: `Usage: lipsync-sync run [--config path]

Runs the worker: the poll scheduler, batch polling, webhook delivery and the HTTP server
(GET /metrics, /healthz, /readyz and the /v1 API on http.port, default 9464).
Needs CREATIFY_API_ID and CREATIFY_API_KEY (or creatify.simulator: true). SIGTERM/SIGINT stop it gracefully.${COMMON}`,
  track: `Usage: lipsync-sync track <id...>     or     some-command | lipsync-sync track

Tracks lipsync UUIDs; with no ids on the command line, reads one per line from stdin.
Prints one line per id: tracked, already tracked, or already terminal. Invalid ids exit 2 and nothing is tracked.${COMMON}`,
  untrack: `Usage: lipsync-sync untrack <id...>

Stops polling the ids. Their last state is kept for poll.terminalRetentionSeconds.${COMMON}`,
  status: `Usage: lipsync-sync status <id> [--json]

Shows the last known state of one lipsync: status, progress, failed reason, timestamps, events emitted.
Exit 1 when the id is unknown.${COMMON}`,
  list: `Usage: lipsync-sync list [--status <status>] [--limit n] [--json]

Lists tracked (pending) ids with their last seen status; 'new' means not answered yet.${COMMON}`,
  'replay-dead-letters': `Usage: lipsync-sync replay-dead-letters [--endpoint <name>]

Moves dead-lettered deliveries back into the delivery queue (all endpoints, or one) and re-enables an
endpoint disabled by HTTP 410. A running worker delivers them.${COMMON}`,
  secret: `Usage: lipsync-sync secret

Prints a new random webhook signing secret in the Standard Webhooks format whsec_<base64>.${COMMON}`,
  demo: `Usage: lipsync-sync demo [--count n] [--duration seconds] [--port n]

Starts everything on this machine with no setup: connects to REDIS_URL if set, else starts a private
redis-server; starts the Creatify simulator with --count (default 500) lipsyncs on random timelines, a local
webhook receiver that verifies signatures and prints events, and the daemon polling every 2 s.
Stops on Ctrl-C, or after --duration seconds.${COMMON}`,
};
