// The JavaScript automerge-repo client against a Mingizuk sync server, for the interop test
// (tests/tests/interop.rs). One run does one thing and prints one JSON object on stdout:
//
//   node sync-client.mjs create    <server> <ticket>          a new document, once the server holds it
//   node sync-client.mjs read      <server> <ticket> <docId>  the document as a fresh repo finds it
//   node sync-client.mjs no-ticket <server>                   the HTTP status of an upgrade without credentials
//   node sync-client.mjs probe     <server> <ticket>          the HTTP status of an upgrade with this ticket
//
// <server> is the server's base URL (http://127.0.0.1:PORT); the sync endpoint is /v1/sync.
// Anything that does not finish within TIMEOUT_MS exits 1 with a message on stderr; a document
// the server does not give out exits 2; a refused upgrade seen by the repo's adapter exits 3.

import { Repo } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"
import * as Automerge from "@automerge/automerge"
import WebSocket from "ws"

const TIMEOUT_MS = 20_000
const EXAMPLE = { title: "squats", reps: [10, 12] }

function fail(code, message) {
  process.stderr.write(`sync-client: ${message}\n`)
  process.exit(code)
}

function print(value) {
  process.stdout.write(`${JSON.stringify(value)}\n`)
}

function syncUrl(server, ticket) {
  const url = new URL("/v1/sync", server)
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:"
  if (ticket !== undefined) url.searchParams.set("ticket", ticket)
  return url.toString()
}

// Retrying would spend another ticket: a closed connection is a failure here, not a reason to
// reconnect. The adapter retries only when retryInterval > 0; a day is as good as never.
function connect(server, ticket) {
  const adapter = new WebSocketClientAdapter(syncUrl(server, ticket), 24 * 60 * 60 * 1000)
  // The adapter throws a refused upgrade (ws: "Unexpected server response: 401") out of its
  // error listener; that is the answer of a run with a bad ticket, so say so and stop.
  process.on("uncaughtException", e => {
    if (/Unexpected server response/.test(e.message)) fail(3, `connection refused: ${e.message}`)
    fail(1, e.stack ?? String(e))
  })
  const repo = new Repo({ network: [adapter], sharePolicy: async () => true })
  // The server's peer id, once it has answered `join`: before that, "unavailable" would only
  // mean "not connected yet".
  const serverPeer = new Promise(resolve => adapter.once("peer-candidate", ({ peerId }) => resolve(peerId)))
  return { repo, adapter, serverPeer }
}

/** Resolves once the server has sent a sync message for `documentId` whose heads include every
 * one of `heads`. The server sends no heads it has not stored, so this means "stored". */
function serverHolds(adapter, documentId, heads) {
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

async function create(server, ticket) {
  const { repo, adapter, serverPeer } = connect(server, ticket)
  const handle = repo.create(EXAMPLE)
  const heads = Automerge.getHeads(handle.doc())
  await serverHolds(adapter, handle.documentId, heads)
  print({ server: await serverPeer, documentId: handle.documentId, url: handle.url, heads, doc: handle.doc() })
  await repo.shutdown()
}

async function read(server, ticket, documentId) {
  const { repo, serverPeer } = connect(server, ticket)
  const peer = await serverPeer
  let handle
  try {
    handle = await repo.find(documentId)
  } catch (e) {
    print({ server: peer, documentId, unavailable: true, error: e.message })
    process.exit(2)
  }
  const heads = Automerge.getHeads(handle.doc())
  print({ server: peer, documentId: handle.documentId, url: handle.url, heads, doc: handle.doc() })
  await repo.shutdown()
}

/** Opens the sync endpoint with the `ws` package and reports how the upgrade was answered. */
function probe(server, ticket) {
  return new Promise(resolve => {
    const socket = new WebSocket(syncUrl(server, ticket))
    socket.on("unexpected-response", (_request, response) => {
      let body = ""
      response.setEncoding("utf8")
      response.on("data", part => (body += part))
      response.on("end", () => {
        let parsed
        try {
          parsed = JSON.parse(body)
        } catch {
          parsed = body
        }
        print({ status: response.statusCode, body: parsed })
        resolve()
      })
    })
    socket.on("open", () => {
      print({ status: 101, body: null })
      socket.close()
      resolve()
    })
    socket.on("error", e => {
      // After "unexpected-response" ws reports nothing more; other errors are the run's failure.
      fail(1, `probe failed: ${e.message}`)
    })
  })
}

async function main() {
  const [mode, server, ...rest] = process.argv.slice(2)
  if (!server) fail(64, "usage: sync-client.mjs create|read|no-ticket|probe <server> [ticket] [docId]")
  setTimeout(() => fail(1, `${mode} timed out after ${TIMEOUT_MS / 1000} s`), TIMEOUT_MS)
  switch (mode) {
    case "create":
      return create(server, rest[0])
    case "read":
      return read(server, rest[0], rest[1])
    case "no-ticket":
      return probe(server, undefined)
    case "probe":
      return probe(server, rest[0])
    default:
      fail(64, `unknown mode ${mode}`)
  }
}

main().then(
  () => process.exit(0),
  e => fail(1, e?.stack ?? String(e)),
)
