// The sync benchmark's throughput workload with the JavaScript automerge-repo client: N repos,
// each with its own WebSocketClientAdapter connection and its own small document, each making one
// small change, waiting until the server acknowledges it, and making the next.
//
//   node load.mjs --url ws://127.0.0.1:PORT[/v1/sync] [--http http://127.0.0.1:PORT --token ACCESS[,ACCESS…]]
//                 [--clients 100] [--seconds 10]
//
// With --http and --token (our server), each repo first fetches a single-use ticket from
// POST /v1/ws-ticket and connects with ?ticket=… (the JavaScript adapter cannot set headers); the
// repos take the tokens in turn (the server bounds the connections of one account).
// Prints one JSON object: {clients, changes, seconds, per_second, p50_ms, p99_ms}.
//
// Acknowledgement: a change counts when the server sends a sync message for the document whose
// heads include the change's hash, read off the adapter's incoming messages (the same test our
// own client uses for "up to date"). The repo's remote-heads tracking would need the server to
// advertise a storage id, which ours does not, so it would not compare like with like. A repo
// sends a local change from its throttled change handler (every 100 ms at most) or, sooner, in
// its answer to the server's next message; here the next change is made the moment the previous
// one is acknowledged, so it usually rides on that answer. All repos share one Node process: on a
// small machine the JavaScript client, not the server, is then the limit.

import { Automerge, Repo, WebSocketClientAdapter } from "./deps.mjs"

function option(name, fallback) {
  const i = process.argv.indexOf(name)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback
}

const url = option("--url")
const http = option("--http")
const tokens = (option("--token") ?? "").split(",").filter(t => t !== "")
const clients = Number(option("--clients", "100"))
const seconds = Number(option("--seconds", "10"))
if (!url) {
  process.stderr.write("usage: node load.mjs --url WS_URL [--http BASE --token TOKEN] [--clients N] [--seconds S]\n")
  process.exit(2)
}

async function connectUrl(n) {
  if (!http || tokens.length === 0) return url
  const response = await fetch(`${http}/v1/ws-ticket`, {
    method: "POST",
    headers: { authorization: `Bearer ${tokens[n % tokens.length]}` },
  })
  if (!response.ok) throw new Error(`ws-ticket: HTTP ${response.status}`)
  const { ticket } = await response.json()
  return `${url}?ticket=${encodeURIComponent(ticket)}`
}

/** Resolves once the server has sent a sync message for `documentId` whose heads cover `heads`. */
function acknowledged(adapter, documentId, heads) {
  return new Promise(resolve => {
    const listener = message => {
      if (message.type !== "sync" || message.documentId !== documentId) return
      const theirs = new Set(Automerge.decodeSyncMessage(message.data).heads)
      if (heads.every(h => theirs.has(h))) {
        adapter.off("message", listener)
        resolve()
      }
    }
    adapter.on("message", listener)
  })
}

async function client(n) {
  // A reconnect would spend another ticket; a dropped connection fails the run instead.
  const adapter = new WebSocketClientAdapter(await connectUrl(n), 24 * 60 * 60 * 1000)
  const repo = new Repo({ network: [adapter], sharePolicy: async () => true })
  const handle = repo.create({ count: 0, at: "" })
  await acknowledged(adapter, handle.documentId, Automerge.getHeads(handle.doc()))
  return { n, adapter, repo, handle }
}

async function run(c, deadline, latencies) {
  let n = 1
  while (performance.now() < deadline) {
    c.handle.change(d => {
      d.count = n
      d.at = `2026-01-01T00:${String(Math.floor(n / 60) % 60).padStart(2, "0")}:${String(n % 60).padStart(2, "0")}`
    })
    const made = performance.now()
    await acknowledged(c.adapter, c.handle.documentId, Automerge.getHeads(c.handle.doc()))
    if (made < deadline) latencies.push(performance.now() - made)
    n += 1
  }
}

const all = await Promise.all(Array.from({ length: clients }, (_, n) => client(n)))
const latencies = []
const started = performance.now()
await Promise.all(all.map(c => run(c, started + seconds * 1000, latencies)))
const elapsed = (performance.now() - started) / 1000
latencies.sort((a, b) => a - b)
const at = p => (latencies.length ? latencies[Math.round((latencies.length - 1) * p)] : 0)
process.stdout.write(
  `${JSON.stringify({
    clients,
    changes: latencies.length,
    seconds: elapsed,
    per_second: latencies.length / elapsed,
    p50_ms: at(0.5),
    p99_ms: at(0.99),
  })}\n`,
)
await Promise.all(all.map(c => c.repo.shutdown()))
process.exit(0)
