// The reference automerge-repo sync server, as automerge-repo-sync-server sets it up: a Repo with
// the WebSocket server adapter and the Node filesystem storage adapter, sharing nothing
// unprompted. The sync benchmark (bench/src/bin/sync.rs) runs it beside ours.
//
//   node reference-server.mjs PORT DATA_DIR
//
// Durability, for reading the figures: NodeFSStorageAdapter writes files with fs.writeFile and
// never fsyncs, and the repo answers a sync message as soon as it has applied it, while saving
// is throttled (at most once per 100 ms per document) and happens after. An "acknowledged"
// change here can be lost by a crash; on our server it cannot.

import { createServer } from "node:http"

import { NodeFSStorageAdapter, Repo, WebSocketServer, WebSocketServerAdapter } from "./deps.mjs"

const [port, dir] = process.argv.slice(2)
if (!port || !dir) {
  process.stderr.write("usage: node reference-server.mjs PORT DATA_DIR\n")
  process.exit(2)
}

// The port opens only once the repo's adapter listens for connections (the repo connects its
// network adapters asynchronously), so a client that can connect is also served.
const http = createServer()
const socket = new WebSocketServer({ server: http })
// Kept alive for the life of the process: the repo serves every connection.
const repo = new Repo({
  network: [new WebSocketServerAdapter(socket)],
  storage: new NodeFSStorageAdapter(dir),
  peerId: `reference-server-${process.pid}`,
  sharePolicy: async () => false,
})
while (socket.listenerCount("connection") === 0) await new Promise(resolve => setTimeout(resolve, 10))
http.listen(Number(port), "127.0.0.1", () => process.stdout.write(`listening on 127.0.0.1:${port} (${repo.peerId})\n`))
process.on("SIGTERM", () => process.exit(0))
